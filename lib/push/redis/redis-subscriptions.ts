import type { LoggerService } from '@nestjs/common';
import { Cluster } from 'ioredis';
import type { BoundedCalls } from './bounded-calls.js';
import type { RedisConnections } from './redis-connections.js';
import type { Route } from './redis-payload.js';

const RESOLVED = Promise.resolve();

/**
 * The Redis channels an instance subscribes to, kept in step with what it needs.
 *
 * Changes are batched: one SUBSCRIBE and one UNSUBSCRIBE per turn of the event loop,
 * and a channel wanted and unwanted within one turn costs nothing. A subscription
 * can be awaited (`ready`), so a listen is answered only once pushes from other
 * instances reach it. After a reconnect it restores every subscription from what
 * is needed, not from what ioredis saw Redis confirm.
 */
export class RedisSubscriptions {
  /** The Redis channels this instance needs, and what each carries. */
  private readonly routes = new Map<string, Route>();
  /** The Redis channels subscribed (or being subscribed) on the current connection. */
  private readonly subscribed = new Set<string>();
  /** Redis channels whose subscription may differ from `routes`: the next flush settles them. */
  private readonly dirty = new Set<string>();
  /** Subscriptions sent but not yet confirmed, so that a listen can wait for its own. */
  private readonly confirmations = new Map<string, Promise<void>>();
  private readonly flushWaiters: Array<() => void> = [];
  private flushTimer: NodeJS.Immediate | undefined;
  private stopped = false;

  constructor(
    private readonly connections: RedisConnections,
    /** The subscriber's commands, bounded in time, so that a listen never waits on a frozen Redis for long. */
    private readonly calls: BoundedCalls,
    private readonly logger: LoggerService,
  ) {
    const { subscriber } = connections;
    connections.on(subscriber, 'close', () => this.subscriptionsLost());
    connections.on(subscriber, 'ready', () => this.restore());
  }

  /**
   * A Cluster restores its own subscriptions when a node or the whole cluster comes
   * back: it alone knows which node owns which channel. For a single server they are
   * restored here, from what is needed rather than from what ioredis saw Redis confirm:
   * a subscription in flight when the connection dropped, or one lost when it dropped
   * again during the replay, would otherwise be gone for good.
   */
  private get restoresItself(): boolean {
    return this.connections.subscriber instanceof Cluster;
  }

  /** What the Redis channel `name` carries, while it is wanted. */
  routeOf(name: string): Route | undefined {
    return this.routes.get(name);
  }

  /** Whether the Redis channel `name` is wanted (a local session or listener needs it). */
  has(name: string): boolean {
    return this.routes.has(name);
  }

  want(name: string, route: Route): void {
    this.routes.set(name, route);
    this.changed(name);
  }

  unwant(name: string): void {
    this.routes.delete(name);
    this.changed(name);
  }

  /** Settles once Redis has confirmed the subscription to `name` (at once while Redis is down). */
  async ready(name: string): Promise<void> {
    if (!this.connections.canSubscribe || !this.routes.has(name)) {
      return;
    }
    if (this.dirty.has(name)) {
      await new Promise<void>((resolve) => this.flushWaiters.push(resolve));
    }
    await (this.confirmations.get(name) ?? RESOLVED);
  }

  /** Stops flushing and releases every waiter. */
  stop(): void {
    this.stopped = true;
    clearImmediate(this.flushTimer);
    this.wakeFlushWaiters();
  }

  private changed(name: string): void {
    this.dirty.add(name);
    if (!this.stopped) {
      this.flushTimer ??= setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushTimer = undefined;
    if (this.connections.canSubscribe) {
      const subscribe: string[] = [];
      const unsubscribe: string[] = [];
      for (const name of this.dirty) {
        const wanted = this.routes.has(name);
        if (wanted !== this.subscribed.has(name)) {
          (wanted ? subscribe : unsubscribe).push(name);
        }
      }
      this.dirty.clear();
      this.send('unsubscribe', unsubscribe);
      this.send('subscribe', subscribe);
    }
    this.wakeFlushWaiters();
  }

  private send(action: 'subscribe' | 'unsubscribe', names: string[]): void {
    if (names.length === 0) {
      return;
    }
    const { subscriber, sharded } = this.connections;
    const subscribing = action === 'subscribe';
    for (const name of names) {
      if (subscribing) {
        this.subscribed.add(name);
      } else {
        this.subscribed.delete(name);
      }
    }
    const command = this.calls.now(() =>
      sharded
        ? Promise.all(names.map((name) => (subscribing ? subscriber.ssubscribe(name) : subscriber.sunsubscribe(name))))
        : subscribing
          ? subscriber.subscribe(...names)
          : subscriber.unsubscribe(...names),
    );
    const settled = command.then(
      () => undefined,
      (error: Error) => this.refused(action, names, error),
    );
    if (subscribing) {
      for (const name of names) {
        this.confirmations.set(name, settled);
      }
      void settled.then(() => {
        for (const name of names) {
          if (this.confirmations.get(name) === settled) {
            this.confirmations.delete(name);
          }
        }
      });
    }
  }

  /**
   * A command failed. If the connection dropped, or Redis did not answer in time (the
   * connection is then dropped), restoring the subscriptions redoes it; if Redis refused
   * it (an ACL, say), the state is as before and that is worth an error in the log.
   */
  private refused(action: 'subscribe' | 'unsubscribe', names: string[], error: Error): void {
    if (error?.name !== 'ReplyError') {
      return;
    }
    for (const name of names) {
      if (action === 'subscribe') {
        this.subscribed.delete(name);
      } else {
        this.subscribed.add(name);
      }
    }
    this.logger.error(`Redis refused to ${action} ${names.length} channel(s), e.g. ${names[0]}: ${error.message}`);
  }

  private subscriptionsLost(): void {
    if (!this.restoresItself) {
      this.subscribed.clear();
    }
  }

  private restore(): void {
    if (this.stopped) {
      return;
    }
    if (!this.restoresItself) {
      for (const name of this.routes.keys()) {
        this.dirty.add(name);
      }
    }
    clearImmediate(this.flushTimer);
    this.flush();
  }

  private wakeFlushWaiters(): void {
    for (const wake of this.flushWaiters.splice(0)) {
      wake();
    }
  }
}
