import { HttpException, HttpStatus, Injectable, Logger } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { isObservable, type Observable, tap } from 'rxjs';
import { admitFrame } from '../endpoint/frame-prelude.js';
import type { Session } from '../endpoint/session.js';
import { CLOSE_CODES } from '../protocol/close-codes.js';
import { Message } from '../protocol/message.js';
import { NOTICES } from '../protocol/notices.js';
import { LocalSessions } from '../push/local-sessions.js';
import { HandlerTable } from './handler-table.js';
import { isPromiseLike } from './handler-invoker.js';
import type { RouteHandler } from './interfaces/route-handler.interface.js';

/** Stands for data that a JSON handler cannot take. */
const INVALID_JSON = Symbol('invalid JSON');

/** What running a handler came to: the notice text of its failure, or `undefined` when it succeeded. */
type Outcome = string | undefined;

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

  /**
   * Handles one frame the client sent: at once, returning nothing, when its handler
   * answers at once, else with a promise that settles once it has been handled. A
   * frame over the rate limit only gets the notice.
   */
  handle(session: Session, frame: Buffer, isBinary: boolean): Promise<void> | undefined {
    const parsed = admitFrame(session, frame, isBinary);
    if (!parsed) {
      return undefined;
    }
    const { command, data } = parsed;
    if (command === 'listen') {
      return this.listen(session, data.toString());
    }
    if (command === 'unlisten') {
      this.unlisten(session, data.toString());
      return undefined;
    }
    const handler = this.handlers.commands.get(command);
    if (!handler) {
      session.notify({ op: 'command', command }, NOTICES.notSupported);
      return undefined;
    }
    const outcome = this.run(session, handler, handler.parsesJson ? parseJson(data) : data, command);
    if (outcome instanceof Promise) {
      return outcome.then((error) => this.answerFailure(session, command, error));
    }
    this.answerFailure(session, command, outcome);
    return undefined;
  }

  private answerFailure(session: Session, command: string, error: Outcome): void {
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
      if (!isDenial(error) && !(error instanceof WsException)) {
        this.logger.error(`${match.target.owner} failed, so the listen was refused`, (error as Error)?.stack ?? error);
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

  /**
   * Runs a handler and sends its result; the outcome is the notice text when it
   * failed. A handler that answers at once is answered at once, without a promise.
   */
  private run(session: Session, handler: RouteHandler, data: unknown, pattern: string): Outcome | Promise<Outcome> {
    if (data === INVALID_JSON) {
      return NOTICES.invalidJson;
    }
    let result: unknown;
    try {
      result = handler.invoke(session, data, pattern);
    } catch (error) {
      return this.describe(error, handler);
    }
    if (isPromiseLike(result)) {
      return Promise.resolve(result).then(
        (value) => this.deliver(session, handler, value),
        (error: unknown) => this.describe(error, handler),
      );
    }
    return this.deliver(session, handler, result);
  }

  /**
   * Sends a handler's result: a message, nothing, or every message an Observable
   * emits. The session's next frame waits until the Observable completes, so that
   * replies keep the order of the frames; a closing session ends the subscription.
   */
  private deliver(session: Session, handler: RouteHandler, result: unknown): Outcome | Promise<Outcome> {
    if (isObservable(result)) {
      return this.stream(session, handler, result).then(
        () => undefined,
        (error: unknown) => this.describe(error, handler),
      );
    }
    try {
      this.reply(session, handler, result);
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

  /** The notice text for an error; anything unexpected is logged with its stack. */
  private describe(error: unknown, handler: RouteHandler): string {
    if (error instanceof WsException) {
      return wsExceptionText(error);
    }
    if (isDenial(error)) {
      return NOTICES.notAuthorized;
    }
    this.logger.error(`${handler.owner} failed: ${(error as Error)?.message ?? String(error)}`, (error as Error)?.stack);
    return NOTICES.internalError;
  }
}

/** A guard's "no": Nest throws ForbiddenException for a guard that returns false. */
function isDenial(error: unknown): boolean {
  if (!(error instanceof HttpException)) {
    return false;
  }
  const status = error.getStatus();
  return status === HttpStatus.FORBIDDEN || status === HttpStatus.UNAUTHORIZED;
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
  return typeof value === 'object' ? `an object (${(value as object).constructor?.name ?? 'null prototype'})` : `a ${typeof value}`;
}
