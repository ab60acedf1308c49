import { NOTICE_COMMAND } from '../protocol/rules.js';
import type { ClientEvents } from './client-events.js';
import { OPEN, type WebSocketLike } from './websocket-like.js';

/**
 * Refreshes the session's token over the socket when the server says it expires: gets
 * a new one from the application's `refreshToken` and sends it, without reconnecting.
 * One refresh at a time; a `refreshToken` that fails is reported, and the server closes
 * the session with 4001 when the old token expires.
 */
export class TokenRefresh {
  private refreshing = false;

  constructor(
    private readonly refreshToken: (() => Promise<string>) | undefined,
    private readonly events: ClientEvents,
  ) {}

  /** The server said the session's token expires soon. */
  expiring(socket: WebSocketLike): void {
    if (!this.refreshToken || this.refreshing) {
      return;
    }
    this.refreshing = true;
    this.refreshToken()
      .then((token) => {
        if (socket.readyState === OPEN) {
          socket.send(`${NOTICE_COMMAND}: ${JSON.stringify({ op: 'refresh', token })}`);
        }
      })
      .catch((error: unknown) => this.events.report(error))
      .finally(() => {
        this.refreshing = false;
      });
  }
}
