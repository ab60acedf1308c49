import type { LoggerService } from '@nestjs/common';
import { Cluster, Redis } from 'ioredis';
import type { RedisBrokerOptions } from './redis-broker-options.js';

/** A connection to Redis: one server, or a cluster. */
export type Connection = Redis | Cluster;

type Listener = Parameters<Redis['on']>[1];

/**
 * Commands fail at once while the connection is down instead of waiting in a queue
 * that would grow for as long as the outage lasts; one that is in flight when the
 * connection drops fails too, rather than being sent again (and maybe delivered twice)
 * after the reconnect.
 */
const NO_QUEUE = { enableOfflineQueue: false, maxRetriesPerRequest: 0 } as const;

/** Reconnect backoff: 100 ms doubling to 2 s, with jitter so instances do not reconnect in step. */
function reconnectDelay(attempt: number): number {
  return Math.min(50 * 2 ** attempt, 2000) + Math.floor(Math.random() * 100);
}

/**
 * The two connections of a `RedisBroker`, one to publish and one to subscribe, and
 * what is known of their health: an outage is logged once when it begins and once
 * when both connections are back, however often ioredis retries in between.
 */
export class RedisConnections {
  readonly publisher: Connection;
  readonly subscriber: Connection;
  /** Whether pub/sub is sharded (`SPUBLISH`/`SSUBSCRIBE`). */
  readonly sharded: boolean;
  /**
   * ioredis takes the channel of a sharded command for a key, so it prefixes it with the
   * client's `keyPrefix`, and messages come back with that prefix.
   */
  readonly keyPrefixLength: number;
  private readonly listeners: Array<{ connection: Connection; event: string; listener: Listener }> = [];
  /** Whether Redis was reachable when last heard of; unknown until the first attempt settles. */
  private connected: boolean | undefined;
  private lastError: Error | undefined;
  private closed = false;

  constructor(
    private readonly options: RedisBrokerOptions,
    private readonly logger: LoggerService,
  ) {
    const { client, url } = options;
    this.sharded = options.sharded ?? client instanceof Cluster;
    const publisher = client ?? new Redis(url as string, { ...NO_QUEUE, retryStrategy: reconnectDelay });
    if (publisher.status === 'wait') {
      publisher.connect().catch(() => undefined); // a lazy client: failures are reported through its events
    }
    this.publisher = publisher;
    this.subscriber =
      publisher instanceof Cluster
        ? publisher.duplicate([], { enableOfflineQueue: false, shardedSubscribers: this.sharded, lazyConnect: false })
        : publisher.duplicate({ ...NO_QUEUE, autoResubscribe: false, lazyConnect: false });
    this.keyPrefixLength = this.sharded ? String(this.subscriber.options.keyPrefix ?? '').length : 0;
    for (const connection of [this.publisher, this.subscriber]) {
      this.on(connection, 'error', (error: Error) => (this.lastError = error));
      this.on(connection, 'ready', () => this.connectionReady());
      this.on(connection, 'close', () => this.connectionLost());
    }
  }

  /** Whether a publish can be sent now. */
  get canPublish(): boolean {
    return this.publisher.status === 'ready';
  }

  /** Whether the subscriber connection is up. */
  get canSubscribe(): boolean {
    return this.subscriber.status === 'ready';
  }

  /** Listens to a connection's event until `close`. */
  on(connection: Connection, event: string, listener: Listener): void {
    connection.on(event, listener);
    this.listeners.push({ connection, event, listener });
  }

  /** Settles when both connections' first attempt has succeeded or failed. */
  async firstAttempt(): Promise<void> {
    await Promise.all([firstAttempt(this.publisher), firstAttempt(this.subscriber)]);
  }

  /**
   * Closes the subscriber connection (its subscriptions end with it) and the publisher
   * if the broker made it; a client passed in stays open.
   */
  async close(): Promise<void> {
    this.closed = true;
    const owned = [this.subscriber, this.options.client ? undefined : this.publisher];
    await Promise.all(owned.map((connection) => connection && quit(connection)));
    // Only now: until the connections have ended, their errors must not reach the console.
    for (const { connection, event, listener } of this.listeners.splice(0)) {
      connection.off(event, listener);
    }
  }

  /** Logs once that Redis went away (or was not there at start), however often ioredis retries. */
  private connectionLost(): void {
    if (this.closed || this.connected === false) {
      return;
    }
    this.connected = false;
    const reason = this.lastError?.message ?? 'connection closed';
    this.logger.warn(`Redis is unavailable (${reason}): pushes reach this instance only until it is back`);
  }

  /** Logs once that Redis is back, when both connections are. */
  private connectionReady(): void {
    if (this.closed || !this.canPublish || !this.canSubscribe || this.connected === true) {
      return;
    }
    const recovered = this.connected === false;
    this.connected = true;
    this.lastError = undefined;
    if (recovered) {
      this.logger.log('Redis is back: pushes reach every instance again');
    }
  }
}

const RESOLVED = Promise.resolve();

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
