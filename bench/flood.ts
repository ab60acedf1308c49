import { now } from './cross-instance-protocol.js';

/**
 * Sends as fast as `send` is answered, for `durationMs`, with up to `inFlight` sends
 * outstanding, and resolves once the last has settled. The sends that settled are
 * replaced once per turn of the event loop, all together: so a sender whose sends
 * settle at once (the in-process broker) still lets its frames be written, and the
 * sends of one turn can leave together.
 */
export function flood(durationMs: number, inFlight: number, send: () => Promise<unknown>): Promise<{ pushed: number; failed: number }> {
  const counts = { pushed: 0, failed: 0 };
  const end = now() + durationMs;
  let outstanding = 0;
  let refillScheduled = false;
  return new Promise((resolve) => {
    const refill = (): void => {
      refillScheduled = false;
      while (outstanding < inFlight && now() < end) {
        outstanding++;
        send().then(
          () => {
            counts.pushed++;
            settled();
          },
          () => {
            counts.failed++;
            settled();
          },
        );
      }
      if (outstanding === 0) {
        resolve(counts);
      }
    };
    const settled = (): void => {
      outstanding--;
      if (!refillScheduled) {
        refillScheduled = true;
        setImmediate(refill);
      }
    };
    refill();
  });
}
