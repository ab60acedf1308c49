import { withCode } from '../protocol/errors.js';
import type { Broker, HistoryStore, PresenceStore, PushOperation, PushSink } from './broker.interface.js';
import { MemoryHistory } from './memory-history.js';
import { MemoryPresence } from './memory-presence.js';

/** Options of `LocalBroker`. */
export interface LocalBrokerOptions {
  /**
   * The clock history frames expire by, in milliseconds since the epoch. Default
   * `Date.now`; a test may pass its own to make `ttl` pass without waiting.
   */
  now?: () => number;
}

/** How often the histories that expired while nobody listened are forgotten. */
const FORGET_INTERVAL = 60_000;

/**
 * The default broker: one instance, so every push is carried out in-process, at once.
 * It keeps the history of channels that ask for one in memory (a ring of the latest
 * frames per channel, forgotten once they have expired with no local listener) and
 * the members of presence channels.
 */
export class LocalBroker implements Broker {
  /** The members of presence channels. */
  readonly presence: PresenceStore = new MemoryPresence();
  private readonly memory: MemoryHistory;
  private sink: PushSink | undefined;
  private readonly open = new Set<string>();
  private forgetTimer: ReturnType<typeof setInterval> | undefined;

  constructor(options: LocalBrokerOptions = {}) {
    this.memory = new MemoryHistory(options.now ?? Date.now);
  }

  /** The history of channels that keep one. */
  get history(): HistoryStore {
    return this.memory;
  }

  /** Takes the local sessions' sink. */
  async start(sink: PushSink): Promise<void> {
    this.sink = sink;
    this.forgetTimer = setInterval(() => this.memory.forgetExpired((channel) => !this.open.has(channel)), FORGET_INTERVAL).unref();
  }

  /**
   * Carries `operation` out on this instance, at once; a frame for a channel that
   * keeps history is kept first and delivered with its position.
   * @throws Error (`EASY_WS_NOT_STARTED`) before the module started the broker, or after it closed it.
   */
  async publish(operation: PushOperation): Promise<void> {
    if (!this.sink) {
      throw withCode(new Error('LocalBroker: not started, or closed; push once the application has initialised'), 'EASY_WS_NOT_STARTED');
    }
    if (operation.kind === 'channel' && operation.history) {
      const position = this.memory.append(operation.channel, operation.message, operation.history);
      this.sink({ kind: 'channel', channel: operation.channel, message: operation.message, position });
    } else {
      this.sink(operation);
    }
  }

  /** Notes that `channel` has local listeners, whose history must stay. */
  channelOpened(channel: string): void {
    this.open.add(channel);
  }

  /** Notes that `channel` has no local listener left. */
  channelClosed(channel: string): void {
    this.open.delete(channel);
  }

  /** Nothing to do: there are no other instances to listen to. */
  sessionOpened(): void {}

  /** Nothing to do: there are no other instances to listen to. */
  sessionClosed(): void {}

  /** Stops delivering. */
  async close(): Promise<void> {
    this.sink = undefined;
    clearInterval(this.forgetTimer);
  }
}
