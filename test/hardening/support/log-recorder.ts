import type { LoggerService } from '@nestjs/common';

/** One line the application logged. */
export interface LoggedLine {
  readonly level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  readonly message: string;
}

/** A Nest logger that keeps every line, so a test can check and await what was logged. */
export class LogRecorder implements LoggerService {
  readonly lines: LoggedLine[] = [];
  private readonly waiters = new Set<{ pattern: RegExp; resolve: (line: LoggedLine) => void }>();

  log(message: unknown): void {
    this.record('log', message);
  }
  error(message: unknown): void {
    this.record('error', message);
  }
  warn(message: unknown): void {
    this.record('warn', message);
  }
  debug(message: unknown): void {
    this.record('debug', message);
  }
  verbose(message: unknown): void {
    this.record('verbose', message);
  }
  fatal(message: unknown): void {
    this.record('fatal', message);
  }

  /** The lines of `level` whose message matches `pattern`. */
  matching(level: LoggedLine['level'], pattern: RegExp): LoggedLine[] {
    return this.lines.filter((line) => line.level === level && pattern.test(line.message));
  }

  /** Resolves with the first line, logged already or later, whose message matches `pattern`. */
  logged(pattern: RegExp): Promise<LoggedLine> {
    const found = this.lines.find((line) => pattern.test(line.message));
    return found ? Promise.resolve(found) : new Promise((resolve) => this.waiters.add({ pattern, resolve }));
  }

  private record(level: LoggedLine['level'], message: unknown): void {
    const line = { level, message: String(message) };
    this.lines.push(line);
    for (const waiter of this.waiters) {
      if (waiter.pattern.test(line.message)) {
        this.waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  }
}
