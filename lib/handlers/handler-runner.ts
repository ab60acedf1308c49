import { HttpException, HttpStatus, Injectable, Logger } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { isObservable, type Observable, tap } from 'rxjs';
import type { Session } from '../endpoint/session.js';
import { Message } from '../protocol/message.js';
import { NOTICES } from '../protocol/notices.js';
import { describeError, summarizeError } from '../utils/describe-error.js';
import { isPromiseLike } from './handler-invoker.js';
import type { RouteHandler } from './interfaces/route-handler.interface.js';

/** What running a handler came to: the notice text of its failure, or `undefined` when it succeeded. */
export type Outcome = string | undefined;

/**
 * Runs the application's handler methods for a session and sends what they return:
 * a `Message`, nothing, or every message an Observable emits. Every error ends here as
 * the notice text that answers it; only the unexpected ones are logged, once.
 */
@Injectable()
export class HandlerRunner {
  private readonly logger = new Logger('EasyWs');

  /**
   * Runs a handler and sends its result; the outcome is the notice text when it
   * failed. A handler that answers at once is answered at once, without a promise.
   */
  run(session: Session, handler: RouteHandler, data: unknown, pattern: string): Outcome | Promise<Outcome> {
    let result: unknown;
    try {
      result = handler.invoke(session, data, pattern);
      if (isPromiseLike(result)) {
        return Promise.resolve(result).then(
          (value) => this.deliver(session, handler, value),
          (error: unknown) => this.describe(error, handler),
        );
      }
    } catch (error) {
      // Asking whether the result is a promise runs application code too (a `then` getter).
      return this.describe(error, handler);
    }
    return this.deliver(session, handler, result);
  }

  /**
   * Sends a handler's result: a message, nothing, or every message an Observable
   * emits. The session's next frame waits until the Observable completes, so that
   * replies keep the order of the frames; a closing session ends the subscription.
   */
  deliver(session: Session, handler: RouteHandler, result: unknown): Outcome | Promise<Outcome> {
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

  /**
   * Why a listen method's pipeline refused a session: always `not authorized`, whatever
   * a guard threw, so that a guard's reason never reaches the client. What is neither a
   * guard's refusal nor a `WsException` is a fault, and logged.
   */
  refusal(error: unknown, handler: RouteHandler, what: string): string {
    if (expectedNotice(error) === undefined) {
      this.logger.error(`${handler.owner} failed, so ${what}`, describeError(error));
    }
    return NOTICES.notAuthorized;
  }

  /** The notice text for an error; anything unexpected is logged, however strange the value thrown. */
  describe(error: unknown, handler: RouteHandler): string {
    const notice = expectedNotice(error);
    if (notice === undefined) {
      this.logger.error(`${handler.owner} failed: ${summarizeError(error)}`, describeError(error));
    }
    return notice ?? NOTICES.internalError;
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
