import { AsyncLocalStorage } from 'node:async_hooks';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Session } from '../endpoint/session.js';
import { parseFrame } from '../protocol/frame-codec.js';
import { NOTICES, subjectOf } from '../protocol/notices.js';
import { describeError, summarizeError } from '../utils/describe-error.js';
import { EASY_WS_OPTIONS, type ResolvedEasyWsOptions } from './options.js';

/** What a handler runs for: a session, and the frame it handles, or which of the session's hooks runs. */
interface HandlerRun {
  readonly session: Session;
  readonly work: { readonly frame: Buffer; readonly isBinary: boolean } | 'open' | 'close';
}

/**
 * `catchStrayRejections`: a promise that a handler starts and does not await, and that
 * rejects, is a logged error and a `websocket: internal server error` for the session
 * whose handler started it, instead of the end of the process.
 *
 * When the option is on, each frame and hook of a session runs inside an
 * `AsyncLocalStorage` context, and a listener for `unhandledRejection` is installed at
 * bootstrap and removed at shutdown. Node runs that listener in the async context of
 * the promise that rejected, that is, of where it was created, so the context names the
 * session. A rejection outside any handler's context is not the module's: if no other
 * listener is installed, it is thrown on, and the process ends as it would without the
 * option. When the option is off, nothing of this runs: no context, no listener.
 */
@Injectable()
export class StrayRejections implements OnApplicationBootstrap, OnApplicationShutdown {
  /** Whether handlers run in a context, that is, whether the option is on. */
  readonly enabled: boolean;
  private readonly storage = new AsyncLocalStorage<HandlerRun>();
  private readonly logger = new Logger('EasyWs');
  private readonly listener = (reason: unknown): void => this.rejected(reason);

  constructor(@Inject(EASY_WS_OPTIONS) options: ResolvedEasyWsOptions) {
    this.enabled = options.catchStrayRejections;
  }

  onApplicationBootstrap(): void {
    if (this.enabled) {
      process.on('unhandledRejection', this.listener);
    }
  }

  /** After every session has closed and its close hooks ran. */
  onApplicationShutdown(): void {
    process.off('unhandledRejection', this.listener);
  }

  /** Runs `handle` for `session` so that a promise it starts and does not await can be traced back to it. */
  run<T>(session: Session, work: HandlerRun['work'], handle: () => T): T {
    return this.storage.run({ session, work }, handle);
  }

  private rejected(reason: unknown): void {
    const run = this.storage.getStore();
    if (!run) {
      if (process.listenerCount('unhandledRejection') === 1) {
        throw reason; // not a handler's: the process ends, as it would without this listener
      }
      return; // the application's own listener decides
    }
    const { session, work } = run;
    const started = work === 'open' ? 'an open hook' : work === 'close' ? 'a close hook' : 'the handler of a frame';
    this.logger.error(
      `A promise that ${started} of session ${session.id} started and did not await was rejected: ${summarizeError(reason)}`,
      describeError(reason),
    );
    if (work !== 'close' && session.isOpen) {
      session.notify(work === 'open' ? { op: 'open' } : subjectOf(parseFrame(work.frame, work.isBinary)), NOTICES.internalError);
    }
  }
}
