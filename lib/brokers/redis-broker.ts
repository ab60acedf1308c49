import { randomBytes } from 'node:crypto';
import { Logger, type LoggerService } from '@nestjs/common';
import { Cluster, Redis } from 'ioredis';
import type { Broker, PushOperation, PushSink } from '../interfaces/broker.interface.js';
import { decodePayload, encodePayload, isFrom, ORIGIN_BYTES, type Route } from './redis-payload.js';

/** Options of `RedisBroker`: give a `url` or a `client`. */
export interface RedisBrokerOptions {
  /**
   * A Redis URL (`redis://`, `rediss://`, with credentials and database if needed).
   * The broker then makes both of its connections itself and closes them on shutdown.
   */
  url?: string;
  /**
   * An ioredis client (`Redis` or `Cluster`) to publish with. The broker duplicates it
   * for its subscriber connection, which it owns; the client itself stays yours: the
   * broker never closes it.
   */
  client?: Redis | Cluster;
  /**
   * Starts the name of every Redis channel the broker uses. Instances with the same
   * prefix form one application; another prefix shares the Redis without crosstalk.
   * Default `'easy-ws:'`.
   */
  prefix?: string;
  /**
   * Whether to use sharded pub/sub (`SPUBLISH`/`SSUBSCRIBE`, Redis 7 or later), which
   * keeps each message on the shard that owns its channel instead of copying it to
   * every node of a cluster. Default: `true` for a `Cluster`, `false` for a single server.
   */
  sharded?: boolean;
  /** Where the broker reports that Redis went away and came back. Default: Nest's `Logger`. */
  logger?: LoggerService;
}

/**
 * The rejection of a push that Redis could not carry: it was carried out on this
 * instance, but other instances did not get it.
 */
export class RedisUnavailableError extends Error {
  constructor(
    /** The kind of push that did not leave this instance. */
    readonly operation: PushOperation['kind'],
    cause?: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : 'not connected';
    super(`Redis is unavailable (${reason}), so this ${operation} push reached this instance only`, { cause });
    this.name = 'RedisUnavailableError';
  }
}

type Connection = Redis | Cluster;
type Listener = Parameters<Redis['on']>[1];

const DEFAULT_PREFIX = 'easy-ws:';

/**
 * Commands fail at once while the connection is down instead of waiting in a queue
 * that would grow for as long as the outage lasts; one that is in flight when the
 * connection drops fails too, rather than being sent again (and maybe delivered twice)
 * after the reconnect.
 */
const NO_QUEUE = { enableOfflineQueue: false, maxRetriesPerRequest: 0 } as const;

const RESOLVED = Promise.resolve();

/** Reconnect backoff: 100 ms doubling to 2 s, with jitter so instances do not reconnect in step. */
function reconnectDelay(attempt: number): number {
  return Math.min(50 * 2 ** attempt, 2000) + Math.floor(Math.random() * 100);
}

/**
 * Carries pushes between the instances of an application through Redis pub/sub.
 *
 * Local first: an operation is carried out on this instance at once, then published
 * for the others; each instance ignores what it published itself, so nobody gets a
 * frame twice. An instance subscribes only to what it needs: one Redis channel per
 * app channel that has listeners here, one per session here, and one for broadcasts.
 *
 * While Redis is down, the application keeps serving and pushing locally; pushes
 * that should have left the instance reject with `RedisUnavailableError`, the outage
 * is logged once, and once Redis is back every subscription is restored. Redis
 * pub/sub keeps nothing: what was published during an outage is not replayed.
 */
export class RedisBroker implements Broker {
  private readonly origin = randomBytes(ORIGIN_BYTES);
  private readonly prefix: string;
  private readonly logger: LoggerService;
  private readonly broadcastChannel: string;
  /** The Redis channels this instance needs, and what each carries. */
  private readonly routes = new Map<string, Route>();
  /** The Redis channels subscribed (or being subscribed) on the current connection. */
  private readonly subscribed = new Set<string>();
  /** Redis channels whose subscription may differ from `routes`: the next flush settles them. */
  private readonly dirty = new Set<string>();
  /** Subscriptions sent but not yet confirmed, so that a listen can wait for its own. */
  private readonly confirmations = new Map<string, Promise<void>>();
  private readonly flushWaiters: Array<() => void> = [];
  private readonly listeners: Array<{ connection: Connection; event: string; listener: Listener }> = [];
  private flushTimer: NodeJS.Immediate | undefined;
  private publisher: Connection | undefined;
  private subscriber: Connection | undefined;
  private sink: PushSink | undefined;
  /**
   * ioredis takes the channel of a sharded command for a key, so it prefixes it with the
   * client's `keyPrefix`, and messages come back with that prefix.
   */
  private keyPrefixLength = 0;
  /** Whether Redis was reachable when last heard of; unknown until the first attempt settles. */
  private connected: boolean | undefined;
  private lastError: Error | undefined;
  private ignoredForeign = false;

  /** @throws TypeError when the options name neither or both of `url` and `client`, or are malformed. */
  constructor(private readonly options: RedisBrokerOptions) {
    if ((options?.url === undefined) === (options?.client === undefined)) {
      throw new TypeError('RedisBroker: give either "url" or "client"');
    }
    if (options.url !== undefined && (typeof options.url !== 'string' || !/^rediss?:\/\//.test(options.url))) {
      throw new TypeError(`RedisBroker: "url" must be a redis:// or rediss:// URL, got ${JSON.stringify(options.url)}`);
    }
    if (options.client !== undefined && !(options.client instanceof Redis) && !(options.client instanceof Cluster)) {
      throw new TypeError('RedisBroker: "client" must be an ioredis Redis or Cluster');
    }
    if (options.prefix !== undefined && typeof options.prefix !== 'string') {
      throw new TypeError('RedisBroker: "prefix" must be a string');
    }
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.logger = options.logger ?? new Logger('RedisBroker');
    this.broadcastChannel = `${this.prefix}broadcast`;
  }

  private get sharded(): boolean {
    return this.options.sharded ?? this.options.client instanceof Cluster;
  }

  /**
   * A Cluster restores its own subscriptions when a node or the whole cluster comes
   * back: it alone knows which node owns which channel. For a single server the broker
   * restores them itself, from what it needs rather than from what ioredis saw Redis
   * confirm: a subscription in flight when the connection dropped, or one lost when it
   * dropped again during the replay, would otherwise be gone for good.
   */
  private get restoresSubscriptions(): boolean {
    return !(this.subscriber instanceof Cluster);
  }

  /**
   * Connects and subscribes to broadcasts. Waits for the first connection attempt
   * only: if Redis does not answer, the application starts anyway, serves locally,
   * logs the outage and keeps reconnecting.
   */
  async start(sink: PushSink): Promise<void> {
    if (this.publisher) {
      throw new Error('RedisBroker: already started');
    }
    this.sink = sink;
    const { publisher, subscriber } = this.connect();
    this.publisher = publisher;
    this.subscriber = subscriber;
    this.keyPrefixLength = this.sharded ? String(subscriber.options.keyPrefix ?? '').length : 0;
    for (const connection of [publisher, subscriber]) {
      this.on(connection, 'error', (error: Error) => (this.lastError = error));
      this.on(connection, 'ready', () => this.connectionReady());
      this.on(connection, 'close', () => this.connectionLost());
    }
    this.on(subscriber, 'close', () => this.subscriptionsLost());
    this.on(subscriber, 'ready', () => this.restoreSubscriptions());
    this.on(subscriber, this.sharded ? 'smessageBuffer' : 'messageBuffer', (channel: Buffer, payload: Buffer) => this.receive(channel, payload));
    this.want(this.broadcastChannel, { kind: 'broadcast' });
    await Promise.all([firstAttempt(publisher), firstAttempt(subscriber)]);
    await this.ready(this.broadcastChannel);
  }

  /**
   * Carries `operation` out here, then publishes it for the other instances (unless it
   * targets a session of this instance, which no other instance holds).
   *
   * @throws RedisUnavailableError when Redis could not take it; it was carried out here all the same.
   */
  async publish(operation: PushOperation): Promise<void> {
    const sink = this.sink;
    const publisher = this.publisher;
    if (!sink || !publisher) {
      throw new Error('RedisBroker: not started, or closed');
    }
    sink(operation);
    if ('sessionId' in operation && this.routes.has(this.sessionChannel(operation.sessionId))) {
      return operation.kind === 'subscribe' ? this.channelReady(operation.channel) : undefined;
    }
    if (publisher.status !== 'ready') {
      throw new RedisUnavailableError(operation.kind);
    }
    const channel = this.redisChannel(operation);
    const payload = encodePayload(this.origin, operation);
    try {
      await (this.sharded ? publisher.spublish(channel, payload) : publisher.publish(channel, payload));
    } catch (error) {
      throw new RedisUnavailableError(operation.kind, error);
    }
  }

  channelOpened(channel: string): void {
    this.want(this.channelRoute(channel), { kind: 'channel', channel });
  }

  channelClosed(channel: string): void {
    this.unwant(this.channelRoute(channel));
  }

  sessionOpened(sessionId: string): void {
    this.want(this.sessionChannel(sessionId), { kind: 'session', sessionId });
  }

  sessionClosed(sessionId: string): void {
    this.unwant(this.sessionChannel(sessionId));
  }

  /** Settles once Redis has confirmed the subscription for `channel` (at once while Redis is down). */
  channelReady(channel: string): Promise<void> {
    return this.ready(this.channelRoute(channel));
  }

  /** Settles once Redis has confirmed the subscription for the session (at once while Redis is down). */
  sessionReady(sessionId: string): Promise<void> {
    return this.ready(this.sessionChannel(sessionId));
  }

  /**
   * Stops delivering, and closes the subscriber connection (its subscriptions end with
   * it) and the publisher if the broker made it. A client passed in stays open.
   */
  async close(): Promise<void> {
    const { publisher, subscriber } = this;
    this.sink = undefined;
    this.publisher = undefined;
    this.subscriber = undefined;
    clearImmediate(this.flushTimer);
    this.wakeFlushWaiters();
    const owned = [subscriber, this.options.client ? undefined : publisher];
    await Promise.all(owned.map((connection) => connection && quit(connection)));
    // Only now: until the connections have ended, their errors must not reach the console.
    for (const { connection, event, listener } of this.listeners.splice(0)) {
      connection.off(event, listener);
    }
  }

  private connect(): { publisher: Connection; subscriber: Connection } {
    const { client, url } = this.options;
    const publisher = client ?? new Redis(url as string, { ...NO_QUEUE, retryStrategy: reconnectDelay });
    if (publisher.status === 'wait') {
      publisher.connect().catch(() => undefined); // a lazy client: failures are reported through its events
    }
    const subscriber =
      publisher instanceof Cluster
        ? publisher.duplicate([], { enableOfflineQueue: false, shardedSubscribers: this.sharded, lazyConnect: false })
        : publisher.duplicate({ ...NO_QUEUE, autoResubscribe: false, lazyConnect: false });
    return { publisher, subscriber };
  }

  private on(connection: Connection, event: string, listener: Listener): void {
    connection.on(event, listener);
    this.listeners.push({ connection, event, listener });
  }

  private appChannel(channel: string): string {
    return `${this.prefix}c:${channel}`;
  }

  /**
   * The Redis channel of an app channel as Redis sends it back: a name with a lone
   * surrogate does not survive UTF-8, so routes are keyed by what does.
   */
  private channelRoute(channel: string): string {
    return Buffer.from(this.appChannel(channel)).toString();
  }

  private sessionChannel(sessionId: string): string {
    return `${this.prefix}s:${sessionId}`;
  }

  private redisChannel(operation: PushOperation): string {
    switch (operation.kind) {
      case 'channel':
        return this.appChannel(operation.channel);
      case 'broadcast':
        return this.broadcastChannel;
      default:
        return this.sessionChannel(operation.sessionId);
    }
  }

  /** Logs once that Redis went away (or was not there at start), however often ioredis retries. */
  private connectionLost(): void {
    if (!this.publisher || this.connected === false) {
      return;
    }
    this.connected = false;
    const reason = this.lastError?.message ?? 'connection closed';
    this.logger.warn(`Redis is unavailable (${reason}): pushes reach this instance only until it is back`);
  }

  /** Logs once that Redis is back, when both connections are. */
  private connectionReady(): void {
    if (this.publisher?.status !== 'ready' || this.subscriber?.status !== 'ready' || this.connected === true) {
      return;
    }
    const recovered = this.connected === false;
    this.connected = true;
    this.lastError = undefined;
    if (recovered) {
      this.logger.log('Redis is back: pushes reach every instance again');
    }
  }

  private receive(channel: Buffer, payload: Buffer): void {
    if (isFrom(payload, this.origin)) {
      return; // carried out here already, when it was published
    }
    const route = this.routes.get(channel.toString().slice(this.keyPrefixLength));
    if (!route) {
      return; // unsubscribed since it was published
    }
    const operation = decodePayload(payload, route);
    if (!operation) {
      // Once, not per message: a publisher of another format would otherwise flood the log.
      if (!this.ignoredForeign) {
        this.ignoredForeign = true;
        this.logger.warn(`Ignoring messages on ${channel.toString()} and other channels of this prefix that are not in this broker's format`);
      }
      return;
    }
    try {
      this.sink?.(operation);
    } catch (error) {
      // A throw here would unwind into ioredis' reply parser.
      this.logger.error(`Could not carry out a ${operation.kind} push from another instance`, (error as Error)?.stack ?? error);
    }
  }

  private want(name: string, route: Route): void {
    this.routes.set(name, route);
    this.changed(name);
  }

  private unwant(name: string): void {
    this.routes.delete(name);
    this.changed(name);
  }

  /** Batches subscription changes: one SUBSCRIBE and one UNSUBSCRIBE per turn of the event loop. */
  private changed(name: string): void {
    this.dirty.add(name);
    this.flushTimer ??= setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushTimer = undefined;
    if (this.subscriber?.status === 'ready') {
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
    const subscriber = this.subscriber;
    if (!subscriber || names.length === 0) {
      return;
    }
    const subscribing = action === 'subscribe';
    for (const name of names) {
      if (subscribing) {
        this.subscribed.add(name);
      } else {
        this.subscribed.delete(name);
      }
    }
    const command = this.sharded
      ? Promise.all(names.map((name) => (subscribing ? subscriber.ssubscribe(name) : subscriber.sunsubscribe(name))))
      : subscribing
        ? subscriber.subscribe(...names)
        : subscriber.unsubscribe(...names);
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
   * A command failed. If the connection dropped, restoring the subscriptions redoes
   * it; if Redis refused it (an ACL, say), the state is as before and that is worth
   * an error in the log.
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
    if (this.restoresSubscriptions) {
      this.subscribed.clear();
    }
  }

  private restoreSubscriptions(): void {
    if (this.restoresSubscriptions) {
      for (const name of this.routes.keys()) {
        this.dirty.add(name);
      }
    }
    clearImmediate(this.flushTimer);
    this.flush();
  }

  private async ready(name: string): Promise<void> {
    if (this.subscriber?.status !== 'ready' || !this.routes.has(name)) {
      return;
    }
    if (this.dirty.has(name)) {
      await new Promise<void>((resolve) => this.flushWaiters.push(resolve));
    }
    await (this.confirmations.get(name) ?? RESOLVED);
  }

  private wakeFlushWaiters(): void {
    for (const wake of this.flushWaiters.splice(0)) {
      wake();
    }
  }
}

/** Settles when the connection's first attempt succeeded or failed, whichever comes first. */
function firstAttempt(connection: Connection): Promise<void> {
  if (connection.status === 'ready') {
    return RESOLVED;
  }
  return new Promise((resolve) => {
    const events = ['ready', 'close', 'end'];
    const settle = (): void => {
      for (const event of events) {
        connection.off(event, settle);
      }
      resolve();
    };
    for (const event of events) {
      connection.on(event, settle);
    }
  });
}

/** Ends a connection politely when it is up, at once when it is not, so close never waits on an outage. */
async function quit(connection: Connection): Promise<void> {
  if (connection.status === 'ready') {
    try {
      await connection.quit();
      return;
    } catch {
      // it went down meanwhile: disconnect below
    }
  }
  connection.disconnect();
}
