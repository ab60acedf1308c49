import { DurationHistogram } from '../utils/duration-histogram.js';

/** The counts of one command. */
export interface CommandCount {
  /** Frames of the command received (within the rate limit). */
  frames: number;
  /** How long its handler took; kept only with metrics on. */
  readonly durations: DurationHistogram | undefined;
}

/** The label that frames of commands nobody registered count under, so that clients cannot add label values. */
export const UNKNOWN_COMMAND = 'unknown';

/**
 * What the command path did, counted in plain numbers as it happens and read by the
 * metrics when they are scraped: frames by command (only the application's commands,
 * the protocol's own, and `unknown` for all others), handler durations, recoveries.
 */
export class CommandStats {
  /** The counts of each command, made as commands are registered; nothing else adds to it. */
  readonly commands = new Map<string, CommandCount>();
  /** Recoveries that gave the client everything it missed. */
  recovered = 0;
  /** Recoveries that could not: the history had moved on, or its epoch changed. */
  notRecovered = 0;

  /** @param timed whether handler durations are measured: only with metrics on, as that costs two clock readings a frame. */
  constructor(private readonly timed: boolean) {
  }

  /**
   * The counts of `command`, made on first use: call it only with a registered
   * command's name. `timed` false keeps no durations even with metrics on.
   */
  register(command: string, timed = true): CommandCount {
    let count = this.commands.get(command);
    if (!count) {
      count = { frames: 0, durations: this.timed && timed ? new DurationHistogram() : undefined };
      this.commands.set(command, count);
    }
    return count;
  }
}
