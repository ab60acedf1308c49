import type { TestFrame } from './interfaces/test-frame.interface.js';
import { type ConnectionClose, EasyWsExpectationError } from './test-errors.js';
import { show } from './test-frame.js';

/** Which frames an expectation is about. */
export type FrameMatcher = (frame: TestFrame) => boolean;

/** What an expectation waits for, in words, and which frames it is about. */
export interface Expectation {
  /** What is expected, with its article: `a frame "said"`. */
  readonly what: string;
  /** The same, denied: `no frame "said"`. */
  readonly none: string;
  readonly match: FrameMatcher;
  /** The public method the test called: stack traces of failures start at the test's line. */
  readonly from: (...args: never[]) => unknown;
}

interface Waiter {
  readonly match: FrameMatcher;
  /** `undefined` when the connection closed. */
  settle(frame: TestFrame | undefined): void;
}

/**
 * The frames that arrived and were not taken yet, in order, and the tests waiting for
 * some: a frame goes to the oldest waiter it matches, or waits to be taken. A failed
 * expectation lists the frames still waiting, which is what a test author needs to see.
 */
export class FrameInbox {
  private readonly unread: TestFrame[] = [];
  private readonly waiters = new Set<Waiter>();
  private closedWith: ConnectionClose | undefined;

  /** The frames that arrived and were not taken yet, oldest first. */
  get frames(): readonly TestFrame[] {
    return this.unread;
  }

  /** How the connection closed, once it has. */
  get closed(): ConnectionClose | undefined {
    return this.closedWith;
  }

  arrive(frame: TestFrame): void {
    for (const waiter of this.waiters) {
      if (waiter.match(frame)) {
        this.waiters.delete(waiter);
        waiter.settle(frame);
        return;
      }
    }
    this.unread.push(frame);
  }

  close(close: ConnectionClose): void {
    this.closedWith = close;
    for (const waiter of [...this.waiters]) {
      this.waiters.delete(waiter);
      waiter.settle(undefined);
    }
  }

  /** Takes the oldest frame that matches, now or within `timeout` ms. */
  take(expectation: Expectation, timeout: number): Promise<TestFrame> {
    const site = callSite(expectation.from);
    const index = this.unread.findIndex(expectation.match);
    if (index !== -1) {
      return Promise.resolve(this.unread.splice(index, 1)[0]);
    }
    return this.wait(expectation.match, timeout, (frame) => {
      if (frame) {
        return frame;
      }
      throw this.failure(site, this.closedWith ? `Expected ${expectation.what}, but the connection closed ${showClose(this.closedWith)}` : `Expected ${expectation.what} within ${timeout} ms, but none came`);
    });
  }

  /** Resolves when no matching frame arrived within `ms` (or the connection closed first); a matching frame stays unread. */
  none(expectation: Expectation, ms: number): Promise<void> {
    const site = callSite(expectation.from);
    const early = this.unread.find(expectation.match);
    if (early) {
      return Promise.reject(this.failure(site, `Expected ${expectation.none}, but ${show(early)} had arrived`));
    }
    return this.wait(expectation.match, ms, (frame) => {
      if (frame) {
        this.unread.push(frame);
        throw this.failure(site, `Expected ${expectation.none} within ${ms} ms, but ${show(frame)} arrived`);
      }
    });
  }

  /** The error of a failed expectation, with what arrived and a stack trace from the test's call. */
  failure(site: string, message: string): EasyWsExpectationError {
    const frames = this.unread.length === 0 ? 'No other frame arrived.' : `Frames that arrived and were not taken (${this.unread.length}):\n${this.unread.map((frame) => `  ${show(frame)}`).join('\n')}`;
    const error = new EasyWsExpectationError(`${message}. ${frames}`, [...this.unread], this.closedWith);
    error.stack = `${error.name}: ${error.message}\n${site}`;
    return error;
  }

  /**
   * Waits for a matching frame, the close, or `ms`; `outcome` gets the frame, or
   * `undefined` for the close and the time running out.
   */
  private wait<T>(match: FrameMatcher, ms: number, outcome: (frame: TestFrame | undefined) => T): Promise<T> {
    if (this.closedWith) {
      return new Promise((resolve) => resolve(outcome(undefined)));
    }
    return new Promise((resolve, reject) => {
      const settle = (frame: TestFrame | undefined): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        try {
          resolve(outcome(frame));
        } catch (error) {
          reject(error);
        }
      };
      const waiter: Waiter = { match, settle };
      const timer = setTimeout(settle, ms, undefined);
      this.waiters.add(waiter);
    });
  }
}

/** `(1008 "rate limit exceeded")`. */
export function showClose({ code, reason }: ConnectionClose): string {
  return `(${code}${reason ? ` ${JSON.stringify(reason)}` : ''})`;
}

/** The stack below `from`: where the test called the client. */
export function callSite(from: (...args: never[]) => unknown): string {
  const site: { stack?: string } = {};
  Error.captureStackTrace(site, from);
  return (site.stack ?? '').split('\n').slice(1).join('\n');
}
