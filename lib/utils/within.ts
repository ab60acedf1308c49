/** What `within` resolves to when the time ran out first. */
export const TIMED_OUT = Symbol('timed out');

/**
 * Waits for `work` at most `ms` milliseconds: resolves to its value, or to
 * `TIMED_OUT` if it has not settled by then; rejects only if `work` rejects in time.
 */
export function within<T>(work: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(resolve, ms, TIMED_OUT);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
