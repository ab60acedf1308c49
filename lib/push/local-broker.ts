import { withCode } from '../protocol/errors.js';
import type { Broker, PushOperation, PushSink } from './broker.interface.js';

/**
 * The default broker: one instance, so every push is carried out in-process, at once.
 */
export class LocalBroker implements Broker {
  private sink: PushSink | undefined;

  /** Takes the local sessions' sink. */
  async start(sink: PushSink): Promise<void> {
    this.sink = sink;
  }

  /**
   * Carries `operation` out on this instance, at once.
   * @throws Error (`EASY_WS_NOT_STARTED`) before the module started the broker, or after it closed it.
   */
  async publish(operation: PushOperation): Promise<void> {
    if (!this.sink) {
      throw withCode(new Error('LocalBroker: not started, or closed; push once the application has initialised'), 'EASY_WS_NOT_STARTED');
    }
    this.sink(operation);
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
