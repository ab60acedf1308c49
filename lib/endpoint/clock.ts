/**
 * The time the library keeps for what it schedules (token expiry): the system's by
 * default. A test provides its own under `EASY_WS_CLOCK` to move time on without waiting.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `callback` once `ms` milliseconds have passed; returns what `cancel` takes. */
  schedule(callback: () => void, ms: number): unknown;
  /** Cancels what `schedule` returned, if it has not run. */
  cancel(timer: unknown): void;
}

/** Injection token of the `Clock`. */
export const EASY_WS_CLOCK = Symbol('EASY_WS_CLOCK');

/** The system's clock; its timers do not keep the process alive. */
export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  schedule: (callback, ms) => setTimeout(callback, ms).unref(),
  cancel: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
};
