import type { EasyWsClient, EasyWsClientEvents } from 'nestjs-easy-ws/client';

/**
 * The numbers an `EasyWsClient` receives under one command (its data up to the first
 * space), in arrival order, so that a test awaits a count instead of sleeping.
 */
export class Received {
  readonly values: number[] = [];
  private readonly waiters = new Set<{ count: number; resolve: () => void }>();

  constructor(client: EasyWsClient, command: string) {
    client.on(command, (data) => {
      this.values.push(Number(data.split(' ')[0]));
      for (const waiter of this.waiters) {
        if (this.values.length >= waiter.count) {
          this.waiters.delete(waiter);
          waiter.resolve();
        }
      }
    });
  }

  /** Resolves with every value once `count` have arrived. */
  async count(count: number): Promise<number[]> {
    if (this.values.length < count) {
      await new Promise<void>((resolve) => this.waiters.add({ count, resolve }));
    }
    return this.values;
  }
}

/** The next `event` of the client. */
export function nextEvent<K extends keyof EasyWsClientEvents>(client: EasyWsClient, event: K): Promise<EasyWsClientEvents[K]> {
  return new Promise((resolve) => {
    const off = client.onEvent(event, (value) => {
      off();
      resolve(value);
    });
  });
}

/** The whole numbers from `from` to `to`, both included. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, index) => from + index);
}
