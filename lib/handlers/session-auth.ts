import type { IncomingMessage } from 'node:http';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { type Clock, EASY_WS_CLOCK } from '../endpoint/clock.js';
import { readVerdict } from '../endpoint/credentials.js';
import { ENDPOINT_OPTIONS, type ResolvedEndpointOptions } from '../endpoint/endpoint-options.js';
import type { Session } from '../endpoint/session.js';
import { SessionExpiry } from '../endpoint/session-expiry.js';
import { CLOSE_CODES } from '../protocol/close-codes.js';
import { NOTICES } from '../protocol/notices.js';
import { expiringEvent, leftEvent } from '../protocol/server-events.js';
import { LocalSessions } from '../push/local-sessions.js';
import { SessionEvents } from '../push/session-events.js';
import { describeError } from '../utils/describe-error.js';
import { TIMED_OUT, within } from '../utils/within.js';
import { HandlerRunner } from './handler-runner.js';
import { HandlerTable } from './handler-table.js';

const TOKEN_EXPIRED = 'token expired';

/**
 * A session's life after its handshake: its token expires (the session is closed with
 * 4001, after a warning ahead of time in acknowledged mode), a client of acknowledged
 * mode refreshes it over the socket, and the guards of every channel it listens to run
 * again after each refresh and whenever the application asks (`PushService.recheck`):
 * a channel whose guard now denies is left.
 */
@Injectable()
export class SessionAuth {
  private readonly logger = new Logger('EasyWs');
  private readonly expiry: SessionExpiry;

  constructor(
    @Inject(ENDPOINT_OPTIONS) private readonly options: ResolvedEndpointOptions,
    @Inject(EASY_WS_CLOCK) private readonly clock: Clock,
    private readonly sessions: LocalSessions,
    private readonly handlers: HandlerTable,
    private readonly runner: HandlerRunner,
    events: SessionEvents,
  ) {
    this.expiry = new SessionExpiry(
      clock,
      options.refreshBefore,
      (session) => session.send(expiringEvent(session.expiresAt as number)),
      (session) => session.close(CLOSE_CODES.tokenExpired, TOKEN_EXPIRED),
    );
    events.on('recheck', (session) => void this.recheck(session));
  }

  /** A session opened: its expiry counts from now on. */
  opened(session: Session): void {
    this.expiry.schedule(session);
  }

  /** A session closed: nothing of it stays scheduled. */
  closed(session: Session): void {
    this.expiry.cancel(session);
  }

  /**
   * A refresh request: `authenticate` runs on the new token (with a stand-in of the
   * upgrade request that has its headers and the client's address). Accepted, the
   * session's token and data are replaced, its expiry moves, and its channels are checked
   * again; refused, timed out, expired, or naming another user, the session is closed
   * with 4001.
   */
  async refresh(session: Session, token: string): Promise<void> {
    const subject = { op: 'refresh' } as const;
    const { authenticate, handshakeTimeout } = this.options;
    if (!authenticate) {
      return session.notify(subject, NOTICES.notSupported);
    }
    let answer: unknown;
    try {
      answer = await within(Promise.resolve(authenticate(token, standInRequest(session))), handshakeTimeout);
    } catch (error) {
      this.logger.error('authenticate failed on a token refresh; the session was closed', describeError(error));
      answer = false;
    }
    const verdict = answer === TIMED_OUT ? undefined : readVerdict(token, answer, this.clock.now());
    if (!verdict?.accepted || (session.userId !== undefined && verdict.credentials.userId !== session.userId)) {
      return session.close(CLOSE_CODES.tokenExpired, TOKEN_EXPIRED);
    }
    const { credentials } = verdict;
    session.token = credentials.token;
    session.data = credentials.data;
    session.expiresAt = credentials.expiresAt;
    this.expiry.schedule(session);
    session.notify(subject, undefined, credentials.expiresAt === undefined ? undefined : { expiresAt: credentials.expiresAt });
    await this.recheck(session);
  }

  /**
   * Runs the guards of every channel the session listens to again, with its data as it
   * is now; a channel whose guard denies is left (its leave method runs with reason
   * `denied`), and a client of acknowledged mode is told which, never why. A channel
   * the server subscribed the session to without a declaration has no guard to run.
   */
  async recheck(session: Session): Promise<void> {
    for (const channel of [...session.channels]) {
      const match = this.handlers.channels.match(channel);
      if (!match) {
        continue;
      }
      const { target, params } = match;
      let allowed = true;
      try {
        // Without a guard check of its own (a Nest that does not report guards), the listen method runs too; its frame is not sent.
        await (target.guard ?? target.invoke)(session, { channel, params }, 'listen');
      } catch (error) {
        this.runner.refusal(error, target, 'the session left the channel when it was checked again');
        allowed = false;
      }
      if (!allowed && this.sessions.unsubscribe(session, channel, 'denied') && session.acknowledged) {
        session.send(leftEvent(channel, NOTICES.notAuthorized));
      }
    }
  }
}

/** What `authenticate` gets as the request on a refresh: the upgrade request's headers, and the client's address. */
function standInRequest(session: Session): IncomingMessage {
  return { headers: session.headers, socket: { remoteAddress: session.remoteAddress } } as unknown as IncomingMessage;
}
