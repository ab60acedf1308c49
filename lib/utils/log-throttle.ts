/** How many kinds a throttle tells apart; more share one, so that the map cannot grow with what clients send. */
const MAX_KINDS = 64;

/** The kind that kinds beyond `MAX_KINDS` share. */
const OTHER_KIND = '(other)';

interface Window {
  /** How many of the kind came since its last line. */
  count: number;
  /** Writes the line for them; the latest one given. */
  write: (more: number) => void;
}

/**
 * Logs an event that clients can cause at most once per interval per kind, so that a
 * flood of refused handshakes, or of one application bug every request runs into,
 * cannot flood the log: the first of a kind is logged at once, the others of the
 * interval are counted, and the count is logged when the interval ends.
 */
export class LogThrottle {
  private readonly windows = new Map<string, Window>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(private readonly intervalMs: number) {}

  /**
   * Notes one event of `kind`. `write(0)` is called at once for the first of its kind,
   * and `write(n)` at the end of an interval in which `n` more came.
   */
  note(kind: string, write: (more: number) => void): void {
    const key = this.windows.has(kind) || this.windows.size < MAX_KINDS ? kind : OTHER_KIND;
    const window = this.windows.get(key);
    if (window) {
      window.count += 1;
      window.write = write;
      return;
    }
    write(0);
    this.open(key, write);
  }

  /** Forgets every kind and stops the timers; what was counted is not logged. */
  clear(): void {
    for (const timer of this.timers) {
      clearTimeout(timer);
    }
    this.timers.clear();
    this.windows.clear();
  }

  private open(kind: string, write: (more: number) => void): void {
    const window: Window = { count: 0, write };
    this.windows.set(kind, window);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.windows.delete(kind);
      if (window.count > 0) {
        window.write(window.count);
        this.open(kind, window.write); // the next line of the kind waits another interval
      }
    }, this.intervalMs).unref();
    this.timers.add(timer);
  }
}
