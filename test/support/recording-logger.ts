import type { LoggerService } from '@nestjs/common';

/** One call to the logger: its level and everything it was given. */
export interface LogEntry {
  readonly level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  /** The message and the optional parameters (stack, context), errors written out with their stacks. */
  readonly text: string;
}

/** A Nest logger that keeps what it is told, so a test can check what the server logged. */
export class RecordingLogger implements LoggerService {
  readonly entries: LogEntry[] = [];

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

  /** The errors logged from entry number `since` on. */
  errorsSince(since: number): string[] {
    return this.find('error', '', since).map((entry) => entry.text);
  }

  private record(level: LogEntry['level'], args: unknown[]): void {
    const text = args
      .filter((arg) => arg !== undefined)
      .map((arg) => (arg instanceof Error ? (arg.stack ?? arg.message) : String(arg)))
      .join('\n');
    this.entries.push({ level, text });
  }
}
