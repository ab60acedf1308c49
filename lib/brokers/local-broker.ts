import type { Broker, PushOperation, PushSink } from '../interfaces/broker.interface.js';

/**
 * The default broker: one instance, so every push is carried out in-process, at once.
 */
export class LocalBroker implements Broker {
  private sink: PushSink | undefined;

  async start(sink: PushSink): Promise<void> {
    this.sink = sink;
  }

  async publish(operation: PushOperation): Promise<void> {
    this.sink?.(operation);
  }

  channelOpened(): void {}
  channelClosed(): void {}
  sessionOpened(): void {}
  sessionClosed(): void {}

  async close(): Promise<void> {
    this.sink = undefined;
  }
}
