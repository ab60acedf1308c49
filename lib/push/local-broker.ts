import type { Broker, PushOperation, PushSink } from './broker.interface.js';

/**
 * The default broker: one instance, so every push is carried out in-process, at once.
 */
export class LocalBroker implements Broker {
  private sink: PushSink | undefined;

  /** Takes the local sessions' sink; pushes before this do nothing. */
  async start(sink: PushSink): Promise<void> {
    this.sink = sink;
  }

  /** Carries `operation` out on this instance, at once. */
  async publish(operation: PushOperation): Promise<void> {
    this.sink?.(operation);
  }

  /** Nothing to do: there are no other instances to listen to. */
  channelOpened(): void {}

  /** Nothing to do: there are no other instances to listen to. */
  channelClosed(): void {}

  /** Nothing to do: there are no other instances to listen to. */
  sessionOpened(): void {}

  /** Nothing to do: there are no other instances to listen to. */
  sessionClosed(): void {}

  /** Stops delivering. */
  async close(): Promise<void> {
    this.sink = undefined;
  }
}
