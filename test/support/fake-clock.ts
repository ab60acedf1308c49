import type { Clock } from '../../lib/endpoint/clock.js';

/** A clock a test moves by hand: its timers run when `advance` passes their time, in order. */
export class FakeClock implements Clock {
  private time = Date.now();
  private readonly timers = new Set<{ at: number; callback: () => void }>();

  now(): number {
    return this.time;
  }

  schedule(callback: () => void, ms: number): unknown {
    const timer = { at: this.time + ms, callback };
    this.timers.add(timer);
    return timer;
  }

  cancel(timer: unknown): void {
    this.timers.delete(timer as { at: number; callback: () => void });
  }

  /** Moves the time on by `ms`, running every timer that falls due on the way. */
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const due = [...this.timers].filter((timer) => timer.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) {
        break;
      }
      this.timers.delete(due);
      this.time = Math.max(this.time, due.at);
      due.callback();
    }
    this.time = until;
  }
}
