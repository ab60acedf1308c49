import { Injectable } from '@nestjs/common';
import { ConnectedSocket } from '@nestjs/websockets';
import { type EasyWsSession, Message, OnClose, OnOpen } from 'nestjs-easy-ws';

/**
 * Greets every session with `welcome: Hello <session id>` (as the Go package's
 * example does), so that a client learns its id, and lets a test await the close
 * hook of a session instead of sleeping.
 */
@Injectable()
export class SessionTracker {
  private readonly closedIds = new Set<string>();
  private readonly closeHooks = new Map<string, { ran: Promise<EasyWsSession>; run: (session: EasyWsSession) => void }>();

  @OnOpen()
  greet(@ConnectedSocket() session: EasyWsSession): Message {
    return new Message('welcome', `Hello ${session.id}`);
  }

  @OnClose()
  closed(@ConnectedSocket() session: EasyWsSession): void {
    this.closedIds.add(session.id);
    this.closeHook(session.id).run(session);
  }

  /** Whether the close hooks of the session have run. */
  hasClosed(sessionId: string): boolean {
    return this.closedIds.has(sessionId);
  }

  /** Resolves with the session once its close hooks have run. */
  whenClosed(sessionId: string): Promise<EasyWsSession> {
    return this.closeHook(sessionId).ran;
  }

  private closeHook(sessionId: string) {
    let hook = this.closeHooks.get(sessionId);
    if (!hook) {
      let run!: (session: EasyWsSession) => void;
      const ran = new Promise<EasyWsSession>((resolve) => (run = resolve));
      hook = { ran, run };
      this.closeHooks.set(sessionId, hook);
    }
    return hook;
  }
}
