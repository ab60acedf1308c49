import type { CallLimits } from './redis-broker-options.js';
import { type Connection, streamsOf } from './redis-connections.js';

/** What the calls on one connection need to know of its health, and tell it. */
export interface ConnectionHealth {
  /** Why no command can be sent on `connection` now; `undefined` when one can. */
  unavailable(connection: Connection): string | undefined;
  /** `connection` did not answer within the timeout. */
  stalled(connection: Connection, reason: string): void;
  /** Redis answered a command on `connection`: after a stall, it answers again. */
  answered(connection: Connection): void;
  /** Calls `listener` whenever Redis is declared stalled, on any connection. */
  onStalled(listener: (reason: string) => void): void;
}

/** One ioredis command, issued when called: `() => publisher.publish(channel, payload)`. */
export type RedisCall<T> = () => Promise<T>;

interface Waiter {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

interface Queued {
  readonly call: RedisCall<unknown>;
  readonly waiter: Waiter;
  /** Whether it counts towards `maxPending`. */
  readonly counted: boolean;
}

/**
 * The commands of one Redis connection that the broker awaits, each bounded:
 *
 * - in time: a command unanswered after `timeout` rejects, with every other command
 *   still waiting on the connection (they are behind it), and the connection is
 *   reported stalled, which makes Redis count as unavailable until it answers again;
 * - in number: batched commands waiting for their answer, sent or about to be, are
 *   counted from the call until ioredis lets go of them, and beyond `maxPending` a
 *   call is refused at once, so memory cannot grow while Redis is slow;
 * - in round trips: batched commands of one turn of the event loop are written back
 *   to back with the socket corked, so they leave in one write and Redis reads them
 *   in one go, in the order they were made.
 *
 * A command is any ioredis call (a PUBLISH, a script, a pipeline), so the broker's
 * other Redis work can go through here too. Rejections carry the reason as their
 * message: `not connected`, `no answer within … ms`, `… commands are waiting for Redis
 * already`, or the error ioredis or Redis gave.
 */
export class BoundedCalls {
  /** Batched commands of this turn, not sent yet. */
  private batch: Queued[] = [];
  private flushTimer: NodeJS.Immediate | undefined;
  /** Callers whose command is sent and unanswered: a stall rejects them all. */
  private readonly waiting = new Set<Waiter>();
  /** Counted commands from the call until ioredis settles them, answered or not. */
  private pending = 0;
  /** Callers of `drain`, woken once no counted command is pending. */
  private drainWaiters: Array<() => void> = [];

  constructor(
    private readonly connection: Connection,
    private readonly health: ConnectionHealth,
    private readonly limits: CallLimits,
  ) {
    // Redis stopped answering, on this connection or another: nothing waiting here will be answered in time either.
    health.onStalled((reason) => this.abandon(reason));
  }

  /** Sends `call` at once, bounded in time; for commands that are batched already (subscriptions). */
  now<T>(call: RedisCall<T>): Promise<T> {
    const unavailable = this.health.unavailable(this.connection);
    if (unavailable !== undefined) {
      return Promise.reject(new Error(unavailable));
    }
    return new Promise<T>((resolve, reject) => this.send([{ call, waiter: { resolve: resolve as Waiter['resolve'], reject }, counted: false }]));
  }

  /** Sends `call` with the other batched commands of this turn of the event loop, bounded in time and number. */
  batched<T>(call: RedisCall<T>): Promise<T> {
    const refusal =
      this.health.unavailable(this.connection) ??
      (this.pending >= this.limits.maxPending ? `${this.limits.maxPending} commands are waiting for Redis already` : undefined);
    if (refusal !== undefined) {
      return Promise.reject(new Error(refusal));
    }
    this.pending += 1;
    return new Promise<T>((resolve, reject) => {
      this.batch.push({ call, waiter: { resolve: resolve as Waiter['resolve'], reject }, counted: true });
      this.flushTimer ??= setImmediate(() => this.flush());
    });
  }

  /**
   * Settles once every batched command called so far has been answered or given up
   * (within the timeout), so that a close does not cut off what was sent just before it.
   */
  drain(): Promise<void> {
    if (this.pending === 0) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private flush(): void {
    this.flushTimer = undefined;
    const batch = this.batch;
    this.batch = [];
    // It may have gone away within the turn; a client of the application's own would then queue offline.
    const unavailable = this.health.unavailable(this.connection);
    if (unavailable === undefined) {
      this.send(batch);
      return;
    }
    const error = new Error(unavailable);
    this.pending -= batch.length;
    for (const { waiter } of batch) {
      waiter.reject(error);
    }
    this.wakeDrainWaiters();
  }

  private send(batch: Queued[]): void {
    let unanswered = batch.length;
    const timer = setTimeout(() => this.timedOut(), this.limits.timeout).unref();
    const streams = batch.length > 1 ? streamsOf(this.connection) : [];
    for (const stream of streams) {
      stream.cork();
    }
    for (const queued of batch) {
      const { waiter } = queued;
      const settled = (): void => {
        if (queued.counted && --this.pending === 0) {
          this.wakeDrainWaiters();
        }
        if (--unanswered === 0) {
          clearTimeout(timer);
        }
      };
      this.waiting.add(waiter);
      issue(queued.call).then(
        (value) => {
          settled();
          this.health.answered(this.connection);
          if (this.waiting.delete(waiter)) {
            waiter.resolve(value);
          }
        },
        (error: unknown) => {
          settled();
          if ((error as Error | undefined)?.name === 'ReplyError') {
            this.health.answered(this.connection); // Redis refused it, but it answered
          }
          if (this.waiting.delete(waiter)) {
            waiter.reject(error);
          }
        },
      );
    }
    for (const stream of streams) {
      stream.uncork();
    }
  }

  private wakeDrainWaiters(): void {
    if (this.pending === 0 && this.drainWaiters.length > 0) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const wake of waiters) {
        wake();
      }
    }
  }

  /** The oldest command went unanswered too long, and so does every command behind it. */
  private timedOut(): void {
    const reason = `no answer within ${this.limits.timeout} ms`;
    this.abandon(reason);
    this.health.stalled(this.connection, reason);
  }

  /** Rejects every caller still waiting for an answer; ioredis may still hold their commands. */
  private abandon(reason: string): void {
    const error = new Error(reason);
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const waiter of waiting) {
      waiter.reject(error);
    }
  }
}

/** Calls `call`, turning a synchronous throw into a rejection. */
function issue<T>(call: RedisCall<T>): Promise<T> {
  try {
    return call();
  } catch (error) {
    return Promise.reject(error);
  }
}
