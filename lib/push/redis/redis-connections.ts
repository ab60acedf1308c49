import type { Socket } from 'node:net';
import type { LoggerService } from '@nestjs/common';
import { Cluster, Redis } from 'ioredis';
import { TIMED_OUT, within } from '../../utils/within.js';
import { isSharded, type RedisBrokerOptions } from './redis-broker-options.js';

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
 *
 * A Redis that stops answering without closing (frozen, or cut off by a full network
 * buffer) is an outage too, once a command has waited `timeout` for its answer: the
 * connection is stalled, and every connection the broker made itself is dropped with
 * a reset, so that what is queued in it is discarded rather than delivered late, and
 * reconnected with the usual backoff. A client of the application's own is not
 * dropped; it counts as unavailable until Redis answers on it again.
 */
export class RedisConnections {
  readonly publisher: Connection;
  readonly subscriber: Connection;
  /** Whether pub/sub is sharded (`SPUBLISH`/`SSUBSCRIBE`). */
  readonly sharded: boolean;
  /**
   * What starts the Redis channels as Redis knows them: ioredis takes the channel of a
   * sharded command for a key, so it prefixes it with the client's `keyPrefix`, and
   * messages come back with that prefix. Empty without sharding.
   */
  readonly channelPrefix: string;
  private readonly listeners: Array<{ connection: Connection; event: string; listener: Listener }> = [];
  /** Whether Redis was reachable when last heard of; unknown until the first attempt settles. */
  private connected: boolean | undefined;
  private lastError: Error | undefined;
  /** Connections that did not answer in time, or were dropped for it, until they are ready again or answer. */
  private readonly stalledConnections = new Set<Connection>();
  private readonly stallListeners: Array<(reason: string) => void> = [];
  private closed = false;

  constructor(
    private readonly options: RedisBrokerOptions,
    private readonly logger: LoggerService,
    /** How long a command, the first connection and a polite quit may take, in milliseconds. */
    private readonly timeout: number,
  ) {
    const { client, url } = options;
    this.sharded = isSharded(options);
    const publisher = client ?? new Redis(url as string, { ...NO_QUEUE, retryStrategy: reconnectDelay });
    if (publisher.status === 'wait') {
      publisher.connect().catch(() => undefined); // a lazy client: failures are reported through its events
    }
    this.publisher = publisher;
    this.subscriber =
      publisher instanceof Cluster
        ? publisher.duplicate([], { enableOfflineQueue: false, shardedSubscribers: this.sharded, lazyConnect: false })
        : publisher.duplicate({ ...NO_QUEUE, autoResubscribe: false, lazyConnect: false });
    this.channelPrefix = this.sharded ? String(this.subscriber.options.keyPrefix ?? '') : '';
    for (const connection of [this.publisher, this.subscriber]) {
      this.on(connection, 'error', (error: Error) => (this.lastError = error));
      this.on(connection, 'ready', () => {
        this.stalledConnections.delete(connection);
        this.connectionReady();
      });
      this.on(connection, 'close', () => this.connectionLost());
    }
  }

  /** Whether a publish can be sent now. */
  get canPublish(): boolean {
    return this.unavailable(this.publisher) === undefined;
  }

  /** Whether the subscriber connection is up. */
  get canSubscribe(): boolean {
    return this.unavailable(this.subscriber) === undefined;
  }

  /** Why no command can be sent on `connection` now; `undefined` when one can. */
  unavailable(connection: Connection): string | undefined {
    if (this.stalledConnections.has(connection)) {
      return this.lastError?.message ?? 'no answer';
    }
    return connection.status === 'ready' ? undefined : 'not connected';
  }

  /**
   * A command on `connection` went unanswered for the timeout: Redis counts as
   * unavailable (logged once, as a closed connection is), and the connections the
   * broker made are dropped so that nothing queued in them reaches Redis late.
   */
  stalled(connection: Connection, reason: string): void {
    if (this.closed || this.stalledConnections.has(connection)) {
      return;
    }
    this.lastError = new Error(reason);
    this.stalledConnections.add(connection);
    for (const owned of this.owned()) {
      this.stalledConnections.add(owned);
      drop(owned);
    }
    this.connectionLost();
    for (const listener of this.stallListeners) {
      listener(reason);
    }
  }

  /** Calls `listener` whenever Redis is declared stalled, on any connection. */
  onStalled(listener: (reason: string) => void): void {
    this.stallListeners.push(listener);
  }

  /** Redis answered on `connection`: a client of the application's own that stalled is usable again. */
  answered(connection: Connection): void {
    if (this.stalledConnections.size > 0 && this.stalledConnections.delete(connection)) {
      this.connectionReady();
    }
  }

  /** Listens to a connection's event until `close`. */
  on(connection: Connection, event: string, listener: Listener): void {
    connection.on(event, listener);
    this.listeners.push({ connection, event, listener });
  }

  /**
   * Settles when both connections' first attempt has succeeded or failed, or after the
   * timeout: a Redis that accepts the connection but does not answer is stalled.
   */
  async firstAttempt(): Promise<void> {
    const attempts = Promise.all([firstAttempt(this.publisher), firstAttempt(this.subscriber)]);
    if ((await within(attempts, this.timeout)) === TIMED_OUT) {
      this.stalled(this.publisher.status === 'ready' ? this.subscriber : this.publisher, `no answer within ${this.timeout} ms`);
    }
  }

  /**
   * Closes the subscriber connection (its subscriptions end with it) and the publisher
   * if the broker made it; a client passed in stays open. A Redis that does not answer
   * the polite QUIT within the timeout is dropped.
   */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.owned().map((connection) => quit(connection, this.timeout)));
    // Only now: until the connections have ended, their errors must not reach the console.
    for (const { connection, event, listener } of this.listeners.splice(0)) {
      connection.off(event, listener);
    }
  }

  /** The connections the broker made itself: the subscriber, and the publisher unless the application gave it. */
  private owned(): Connection[] {
    return this.options.client ? [this.subscriber] : [this.subscriber, this.publisher];
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

  /** Logs once that Redis is back, when both connections are (and answer). */
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

/**
 * Ends a connection politely when it is up and answers within `timeout`, at once
 * otherwise, so that close never waits on an outage or a frozen Redis.
 */
async function quit(connection: Connection, timeout: number): Promise<void> {
  if (connection.status === 'ready') {
    try {
      if ((await within(connection.quit(), timeout)) !== TIMED_OUT) {
        return;
      }
    } catch {
      // it went down meanwhile: drop it below
    }
  }
  // Reset first: a socket that has begun a polite close (ioredis' disconnect ends it) can no longer be reset.
  drop(connection);
  connection.disconnect(); // and no reconnect
}

/** The sockets a connection writes to: its own, or each node's of a cluster. */
export function streamsOf(connection: Connection): Socket[] {
  const clients = connection instanceof Cluster ? connection.nodes('all') : [connection];
  return clients.flatMap((client) => (client.stream ? [client.stream] : []));
}

/**
 * Ends a connection's sockets at once with a reset: what is still queued in them is
 * discarded instead of reaching a Redis that resumes later, and ioredis sees the close
 * now rather than after a closing handshake that a frozen Redis never answers. (A
 * frozen Redis still reads, when it resumes, what its kernel had accepted already.)
 */
function drop(connection: Connection): void {
  for (const stream of streamsOf(connection)) {
    if (stream.destroyed) {
      continue;
    }
    try {
      stream.resetAndDestroy();
    } catch {
      stream.destroy(); // a TLS socket cannot send a reset; it is closed at once all the same
    }
  }
}
