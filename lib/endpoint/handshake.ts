import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { Logger } from '@nestjs/common';
import { describeError } from '../utils/describe-error.js';
import { TIMED_OUT, within } from '../utils/within.js';
import { ConnectionLimits } from './connection-limits.js';
import type { ResolvedEndpointOptions } from './endpoint-options.js';
import { readToken } from './token-source.js';

/** What a handshake let through; the session is made from it once ws has upgraded the connection. */
export interface Admission {
  readonly token: string | undefined;
  readonly data: Record<string, unknown>;
  /** Gives the connection's place in the limits back; called once the connection has closed. */
  readonly release: () => void;
}

/** What ws passes to `verifyClient`; `origin` is `Sec-WebSocket-Origin` for a version 8 client. */
export interface HandshakeInfo {
  readonly origin?: string;
  readonly req: IncomingMessage;
}

/** How `verifyClient` answers ws: accept, or refuse with an HTTP status, body and headers. */
export type HandshakeCallback = (verified: boolean, status?: number, body?: string, headers?: OutgoingHttpHeaders) => void;

/** An HTTP refusal of the handshake; bodies end in a newline, as Go's `http.Error` writes them. */
interface Refusal {
  readonly status: number;
  readonly body: string;
}

/** Every answer but 101 that the handshake gives. */
export const REFUSALS = {
  authentication: { status: 403, body: 'Authentication failed\n' },
  origin: { status: 403, body: 'Origin not allowed\n' },
  timeout: { status: 503, body: 'Authentication timed out\n' },
  limit: { status: 503, body: 'Too many connections\n' },
  shutdown: { status: 503, body: 'Server shutting down\n' },
} as const satisfies Record<string, Refusal>;

const TEXT_BODY = { 'Content-Type': 'text/plain' };

/**
 * Decides, before any socket is kept, whether an upgrade request becomes a session:
 * the endpoint is not shutting down, the origin is allowed, the token is read and the
 * authenticator accepts it within `handshakeTimeout`, and the connection limits have
 * room. It runs as ws's `verifyClient` hook, after ws has checked the request itself,
 * and refuses through that hook's callback, so ws writes the HTTP answer.
 */
export class Handshake {
  private readonly logger = new Logger('EasyWs');
  private readonly connections: ConnectionLimits;
  private readonly admissions = new WeakMap<IncomingMessage, Admission>();

  constructor(private readonly options: ResolvedEndpointOptions) {
    this.connections = new ConnectionLimits(options.maxConnections, options.maxConnectionsPerToken);
  }

  /** The `verifyClient` hook of one endpoint; `closing` tells whether that endpoint is shutting down. */
  verifier(closing: () => boolean): (info: HandshakeInfo, callback: HandshakeCallback) => void {
    return (info, callback) => void this.verify(info, callback, closing);
  }

  /** What the handshake of `request` admitted; taken once, when ws hands the connection over. */
  take(request: IncomingMessage): Admission | undefined {
    const admission = this.admissions.get(request);
    this.admissions.delete(request);
    return admission;
  }

  private async verify(info: HandshakeInfo, callback: HandshakeCallback, closing: () => boolean): Promise<void> {
    const refuse = ({ status, body }: Refusal): void => callback(false, status, body, TEXT_BODY);
    const request = info.req;
    let upgrading = false;
    try {
      if (closing()) {
        return refuse(REFUSALS.shutdown);
      }
      const { allowedOrigins, authenticate, handshakeTimeout } = this.options;
      if (info.origin !== undefined && allowedOrigins && !allowedOrigins(info.origin, request)) {
        return refuse(REFUSALS.origin);
      }
      const token = readToken(this.options.token, request);
      let data: Record<string, unknown> = {};
      if (authenticate) {
        const verdict = token === undefined ? false : await within(Promise.resolve(authenticate(token, request)), handshakeTimeout);
        if (verdict === TIMED_OUT) {
          this.logger.warn(`authenticate did not answer within ${handshakeTimeout} ms; the handshake was refused`);
          return refuse(REFUSALS.timeout);
        }
        if (!verdict) {
          return refuse(REFUSALS.authentication);
        }
        if (typeof verdict === 'object') {
          data = { ...verdict };
        }
      }
      // Checked again here, with no await before the upgrade, so that no handshake slips past a limit or a shutdown.
      const release = closing() ? undefined : this.connections.acquire(token);
      if (!release) {
        return refuse(closing() ? REFUSALS.shutdown : REFUSALS.limit);
      }
      this.admissions.set(request, { token, data, release });
      upgrading = true;
      callback(true);
      // ws upgrades at once and the admission is taken; still here, the client had gone away meanwhile.
      if (this.admissions.delete(request)) {
        release();
      }
    } catch (error) {
      this.logger.error('A WebSocket handshake failed', describeError(error));
      this.take(request)?.release();
      if (!upgrading) {
        refuse(REFUSALS.authentication);
      }
    }
  }
}
