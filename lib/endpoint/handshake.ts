import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { Logger } from '@nestjs/common';
import { describeError, summarizeError } from '../utils/describe-error.js';
import { LogThrottle } from '../utils/log-throttle.js';
import { TIMED_OUT, within } from '../utils/within.js';
import { ConnectionLimits } from './connection-limits.js';
import type { ResolvedEndpointOptions } from './endpoint-options.js';
import type { EndpointStats, RefusalReason } from './endpoint-stats.js';
import { readVerdict } from './credentials.js';
import type { Credentials } from './session.js';
import { readToken } from './token-source.js';

/** What a handshake let through; the session is made from it once ws has upgraded the connection. */
export interface Admission {
  readonly credentials: Credentials;
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
  /** What the metrics count it as. */
  readonly reason: RefusalReason;
}

/** Every answer but 101 that the handshake gives. */
export const REFUSALS = {
  authentication: { status: 403, body: 'Authentication failed\n', reason: 'auth' },
  origin: { status: 403, body: 'Origin not allowed\n', reason: 'origin' },
  timeout: { status: 503, body: 'Authentication timed out\n', reason: 'timeout' },
  limit: { status: 503, body: 'Too many connections\n', reason: 'limit' },
  shutdown: { status: 503, body: 'Server shutting down\n', reason: 'shutdown' },
} as const satisfies Record<string, Refusal>;

const TEXT_BODY = { 'Content-Type': 'text/plain' };

/** How often, at most, a line is logged for one kind of refusal or failure that clients can cause. */
const LOG_INTERVAL_MS = 10_000;

/**
 * Decides, before any socket is kept, whether an upgrade request becomes a session:
 * the endpoint is not shutting down, the origin is allowed, the token is read and the
 * authenticator accepts it within `handshakeTimeout`, and the connection limits have
 * room. It runs as ws's `verifyClient` hook, after ws has checked the request itself,
 * and refuses through that hook's callback, so ws writes the HTTP answer.
 *
 * Any client can make a handshake fail or be refused, so what is logged of it is logged
 * at most once per kind every 10 seconds, with a count of the others.
 */
export class Handshake {
  private readonly logger = new Logger('EasyWs');
  private readonly connections: ConnectionLimits;
  private readonly admissions = new WeakMap<IncomingMessage, Admission>();
  private readonly throttle = new LogThrottle(LOG_INTERVAL_MS);
  /** Handshakes waiting for the authenticator. */
  private pending = 0;

  constructor(private readonly options: ResolvedEndpointOptions) {
    this.connections = new ConnectionLimits(options.maxConnections, options.maxConnectionsPerToken, options.maxConnectionsPerUser);
  }

  /** The `verifyClient` hook of one endpoint; `closing` tells whether that endpoint is shutting down, `stats` counts its refusals. */
  verifier(closing: () => boolean, stats: EndpointStats): (info: HandshakeInfo, callback: HandshakeCallback) => void {
    return (info, callback) => void this.verify(info, callback, closing, stats);
  }

  /** Stops the timers of the throttled log lines. */
  stop(): void {
    this.throttle.clear();
  }

  /** What the handshake of `request` admitted; taken once, when ws hands the connection over. */
  take(request: IncomingMessage): Admission | undefined {
    const admission = this.admissions.get(request);
    this.admissions.delete(request);
    return admission;
  }

  private async verify(info: HandshakeInfo, callback: HandshakeCallback, closing: () => boolean, stats: EndpointStats): Promise<void> {
    const refuse = ({ status, body, reason }: Refusal): void => {
      stats.handshakesRefused[reason]++;
      callback(false, status, body, TEXT_BODY);
    };
    const request = info.req;
    let upgrading = false;
    try {
      if (closing()) {
        return refuse(REFUSALS.shutdown);
      }
      if (info.origin !== undefined && !this.originAllowed(info.origin, request)) {
        return refuse(REFUSALS.origin);
      }
      const { authenticate, handshakeTimeout, maxPendingHandshakes } = this.options;
      const token = readToken(this.options.token, request);
      let credentials: Credentials = { token, data: {}, userId: undefined, expiresAt: undefined };
      if (authenticate) {
        if (token === undefined) {
          return refuse(REFUSALS.authentication);
        }
        if (this.pending >= maxPendingHandshakes) {
          this.throttle.note('pending', (more) =>
            this.logger.warn(
              more === 0
                ? `${maxPendingHandshakes} handshakes are waiting for authenticate (maxPendingHandshakes); refusing more with 503`
                : `${maxPendingHandshakes} handshakes were waiting for authenticate (maxPendingHandshakes); refused ${more} more in the last 10 s`,
            ),
          );
          return refuse(REFUSALS.limit);
        }
        this.pending += 1;
        let answer: Awaited<ReturnType<typeof authenticate>> | typeof TIMED_OUT;
        try {
          answer = await within(Promise.resolve(authenticate(token, request)), handshakeTimeout);
        } finally {
          this.pending -= 1;
        }
        if (answer === TIMED_OUT) {
          this.throttle.note('timeout', (more) =>
            this.logger.warn(
              more === 0
                ? `authenticate did not answer within ${handshakeTimeout} ms; the handshake was refused`
                : `authenticate did not answer within ${handshakeTimeout} ms for ${more} more handshakes in the last 10 s; they were refused`,
            ),
          );
          return refuse(REFUSALS.timeout);
        }
        const verdict = readVerdict(token, answer, Date.now());
        if (!verdict.accepted) {
          return refuse(REFUSALS.authentication);
        }
        credentials = verdict.credentials;
      }
      // Checked again here, with no await before the upgrade, so that no handshake slips past a limit or a shutdown.
      const release = closing() ? undefined : this.connections.acquire(token, credentials.userId);
      if (!release) {
        return refuse(closing() ? REFUSALS.shutdown : REFUSALS.limit);
      }
      this.admissions.set(request, { credentials, release });
      upgrading = true;
      callback(true);
      // ws upgrades at once and the admission is taken; still here, the client had gone away meanwhile.
      if (this.admissions.delete(request)) {
        release();
      }
    } catch (error) {
      this.logFailure('A WebSocket handshake failed', error);
      this.take(request)?.release();
      if (!upgrading) {
        refuse(REFUSALS.authentication);
      }
    }
  }

  /** Whether a browser page of `origin` may connect; an `allowedOrigins` that throws refuses it. */
  private originAllowed(origin: string, request: IncomingMessage): boolean {
    const { allowedOrigins } = this.options;
    try {
      return !allowedOrigins || allowedOrigins(origin, request);
    } catch (error) {
      this.logFailure('allowedOrigins threw, so the handshake was refused with 403 Origin not allowed', error);
      return false;
    }
  }

  /** Logs a failure of the application's code in a handshake: the first of its kind with everything known of it, then a count. */
  private logFailure(what: string, error: unknown): void {
    const summary = summarizeError(error);
    this.throttle.note(`${what}: ${summary}`, (more) =>
      more === 0 ? this.logger.error(`${what}: ${summary}`, describeError(error)) : this.logger.error(`${what} ${more} more times in the last 10 s: ${summary}`),
    );
  }
}
