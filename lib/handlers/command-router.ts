import { HttpException, HttpStatus, Injectable, Logger } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { isObservable, type Observable, tap } from 'rxjs';
import { admitFrame } from '../endpoint/frame-prelude.js';
import type { Session } from '../endpoint/session.js';
import { CLOSE_CODES } from '../protocol/close-codes.js';
import { Message } from '../protocol/message.js';
import { NOTICES } from '../protocol/notices.js';
import { LocalSessions } from '../push/local-sessions.js';
import { describeError, summarizeError } from '../utils/describe-error.js';
import { HandlerTable } from './handler-table.js';
import type { RouteHandler } from './interfaces/route-handler.interface.js';

/** Stands for data that a JSON handler cannot take. */
const INVALID_JSON = Symbol('invalid JSON');

/**
 * Carries out the protocol for one session: routes each frame to `listen`,
 * `unlisten` or the application's handler, sends replies and notices, and runs
 * the open and close hooks. Every error stops here; none reaches the socket layer.
 */
@Injectable()
export class CommandRouter {
  private readonly logger = new Logger('EasyWs');

  constructor(
    private readonly sessions: LocalSessions,
    private readonly handlers: HandlerTable,
  ) {}

  /** Runs the open hooks; a session whose hook fails gets the notice and is closed. */
  async open(session: Session): Promise<void> {
    for (const handler of this.handlers.open) {
      const error = await this.run(session, handler, session.id, 'open');
      if (error !== undefined) {
        session.notify({ op: 'open' }, error);
        session.close(error === NOTICES.internalError ? CLOSE_CODES.internalError : CLOSE_CODES.policyViolation, error);
        return;
      }
    }
  }

  /** Runs the close hooks, after the session has left the registry. */
  async close(session: Session): Promise<void> {
    for (const handler of this.handlers.close) {
      await this.run(session, handler, session.id, 'close');
    }
  }

  /** Handles one frame the client sent; a frame over the rate limit only gets the notice. */
  async handle(session: Session, frame: Buffer, isBinary: boolean): Promise<void> {
    const parsed = admitFrame(session, frame, isBinary);
    if (!parsed) {
      return;
    }
    const { command, data } = parsed;
    if (command === 'listen' || command === 'unlisten') {
      const channel = data.toString();
      return command === 'listen' ? this.listen(session, channel) : this.unlisten(session, channel);
    }
    const handler = this.handlers.commands.get(command);
    const error = handler ? await this.run(session, handler, handler.parsesJson ? parseJson(data) : data, command) : NOTICES.notSupported;
    if (error !== undefined) {
      session.notify({ op: 'command', command }, error);
    }
  }

  private async listen(session: Session, channel: string): Promise<void> {
    const subject = { op: 'listen', channel } as const;
    const match = this.handlers.channels.match(channel);
    if (!match) {
      return session.notify(subject, NOTICES.channelDoesNotExist);
    }
    if (session.channels.has(channel)) {
      return session.notify(subject, NOTICES.alreadyListening);
    }
    if (session.channels.size >= session.limits.maxChannelsPerSession) {
      return session.notify(subject, NOTICES.tooManyChannels);
    }
    let result: unknown;
    try {
      result = await match.target.invoke(session, { channel, params: match.params }, 'listen');
    } catch (error) {
      // A WsException is a guard's refusal with a reason, not a fault.
      if (expectedNotice(error) === undefined) {
        this.logger.error(`${match.target.owner} failed, so the listen was refused`, describeError(error));
      }
      // A guard's reason never reaches the client, whatever it threw.
      return session.notify(subject, NOTICES.notAuthorized);
    }
    if (this.sessions.get(session.id) !== session) {
      return; // it closed while the guard ran
    }
    this.sessions.subscribe(session, channel);
    await this.sessions.channelReady(channel);
    // The answer waits for the listener's first frame, so that a listen gets exactly
    // one answer even when that frame fails, and a failed listen leaves no subscription.
    const error = await this.deliver(session, match.target, result);
    if (error !== undefined) {
      this.sessions.unsubscribe(session, channel);
    }
    session.notify(subject, error);
  }

  private unlisten(session: Session, channel: string): void {
    const listened = this.sessions.unsubscribe(session, channel);
    session.notify({ op: 'unlisten', channel }, listened ? undefined : NOTICES.notListening);
  }

  /** Runs a handler and sends its result; returns the notice text when it failed. */
  private async run(session: Session, handler: RouteHandler, data: unknown, pattern: string): Promise<string | undefined> {
    if (data === INVALID_JSON) {
      return NOTICES.invalidJson;
    }
    let result: unknown;
    try {
      result = await handler.invoke(session, data, pattern);
    } catch (error) {
      return this.describe(error, handler);
    }
    return this.deliver(session, handler, result);
  }

  /**
   * Sends a handler's result: a message, nothing, or every message an Observable
   * emits. The session's next frame waits until the Observable completes, so that
   * replies keep the order of the frames; a closing session ends the subscription.
   */
  private async deliver(session: Session, handler: RouteHandler, result: unknown): Promise<string | undefined> {
    try {
      if (isObservable(result)) {
        await this.stream(session, handler, result);
      } else {
        this.reply(session, handler, result);
      }
      return undefined;
    } catch (error) {
      return this.describe(error, handler);
    }
  }

  private stream(session: Session, handler: RouteHandler, result: Observable<unknown>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const { closed } = session;
      const stop = (): void => {
        subscription.unsubscribe();
        resolve();
      };
      const finish = (): void => closed.removeEventListener('abort', stop);
      // Through tap, a value that is not a message fails the stream; thrown from a
      // subscriber's next, rxjs would rethrow it outside any try and the stream would never end.
      const subscription = result.pipe(tap((value) => this.reply(session, handler, value))).subscribe({
        error: (error: unknown) => {
          finish();
          reject(error);
        },
        complete: () => {
          finish();
          resolve();
        },
      });
      if (subscription.closed) {
        return;
      }
      if (closed.aborted) {
        stop(); // the client left while the handler ran
      } else {
        closed.addEventListener('abort', stop, { once: true });
      }
    });
  }

  private reply(session: Session, handler: RouteHandler, value: unknown): void {
    if (value instanceof Message) {
      session.send(value);
    } else if (value !== undefined && value !== null) {
      throw new TypeError(`${handler.owner} returned ${describeValue(value)}; a handler returns a Message, nothing, or an Observable of messages`);
    }
  }

  /** The notice text for an error; anything unexpected is logged, however strange the value thrown. */
  private describe(error: unknown, handler: RouteHandler): string {
    const notice = expectedNotice(error);
    if (notice === undefined) {
      this.logger.error(`${handler.owner} failed: ${summarizeError(error)}`, describeError(error));
    }
    return notice ?? NOTICES.internalError;
  }
}

/**
 * The notice of an error that says no rather than fails: a `WsException`'s message,
 * or `not authorized` for a guard's "no" (Nest throws ForbiddenException for a guard
 * that returns false; a 401 or 403 `HttpException` means the same). `undefined` for
 * a fault, and for a value that cannot even be asked (a Proxy whose traps throw).
 */
function expectedNotice(error: unknown): string | undefined {
  try {
    if (error instanceof WsException) {
      return wsExceptionText(error);
    }
    if (error instanceof HttpException) {
      const status = error.getStatus();
      return status === HttpStatus.FORBIDDEN || status === HttpStatus.UNAUTHORIZED ? NOTICES.notAuthorized : undefined;
    }
  } catch {
    // a fault, described as it is
  }
  return undefined;
}

function parseJson(data: string | Buffer): unknown {
  try {
    return JSON.parse(data.toString());
  } catch {
    return INVALID_JSON;
  }
}

function wsExceptionText(error: WsException): string {
  const content = error.getError();
  if (typeof content === 'string') {
    return content;
  }
  const message = (content as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : JSON.stringify(content);
}

function describeValue(value: unknown): string {
  if (typeof value !== 'object') {
    return `a ${typeof value}`;
  }
  try {
    return `an object (${(value as object).constructor?.name ?? 'null prototype'})`;
  } catch {
    return 'an object whose class cannot be read';
  }
}
