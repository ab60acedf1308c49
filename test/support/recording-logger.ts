import type { LoggerService } from '@nestjs/common';

/** One call to the logger. */
export interface LogEntry {
  readonly level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  /** The message, the first argument, as text. */
  readonly message: string;
  /** The message and the optional parameters (stack, context), errors written out with their stacks. */
  readonly text: string;
}

/** A Nest logger that keeps what it is told, so a test can check, count and await what the server logged. */
export class RecordingLogger implements LoggerService {
  readonly entries: LogEntry[] = [];
  private readonly waiters = new Set<{ pattern: RegExp; resolve: (entry: LogEntry) => void }>();

  log(...args: unknown[]): void {
    this.record('log', args);
  }
  error(...args: unknown[]): void {
    this.record('error', args);
  }
  warn(...args: unknown[]): void {
    this.record('warn', args);
  }
  debug(...args: unknown[]): void {
    this.record('debug', args);
  }
  verbose(...args: unknown[]): void {
    this.record('verbose', args);
  }
  fatal(...args: unknown[]): void {
    this.record('fatal', args);
  }

  /** The entries of one level whose text contains `fragment`, from entry number `since` on. */
  find(level: LogEntry['level'], fragment: string, since = 0): LogEntry[] {
    return this.entries.slice(since).filter((entry) => entry.level === level && entry.text.includes(fragment));
  }

  /** The texts of the errors logged from entry number `since` on. */
  errorsSince(since: number): string[] {
    return this.find('error', '', since).map((entry) => entry.text);
  }

  /** The entries of `level` whose message matches `pattern`. */
  matching(level: LogEntry['level'], pattern: RegExp): LogEntry[] {
    return this.entries.filter((entry) => entry.level === level && pattern.test(entry.message));
  }

  /** The messages of one level. */
  at(level: LogEntry['level']): string[] {
    return this.entries.filter((entry) => entry.level === level).map((entry) => entry.message);
  }

  /** Resolves with the first entry, logged already or later, whose message matches `pattern`. */
  logged(pattern: RegExp): Promise<LogEntry> {
    const found = this.entries.find((entry) => pattern.test(entry.message));
    return found ? Promise.resolve(found) : new Promise((resolve) => this.waiters.add({ pattern, resolve }));
  }

  private record(level: LogEntry['level'], args: unknown[]): void {
    const text = args
      .filter((arg) => arg !== undefined)
      .map((arg) => (arg instanceof Error ? (arg.stack ?? arg.message) : String(arg)))
      .join('\n');
    const entry = { level, message: String(args[0]), text };
    this.entries.push(entry);
    for (const waiter of this.waiters) {
      if (waiter.pattern.test(entry.message)) {
        this.waiters.delete(waiter);
        waiter.resolve(entry);
      }
    }
  }
}
