/**
 * The rules of the command protocol that the server and the client share.
 *
 * This file imports nothing and uses no Node API, so that a browser can load it as
 * it is; the server's byte-level codec takes its limits and checks from here.
 */

/** The Go package's subprotocol: original behaviour, byte for byte. */
export const LEGACY_SUBPROTOCOL = 'cmd.fossores.de';

/** The subprotocol of acknowledged mode: every listen and unlisten answered, notices as JSON. */
export const ACKNOWLEDGED_SUBPROTOCOL = 'easy-ws.v1';

/** The longest command, in bytes. */
export const MAX_COMMAND_BYTES = 255;

/** The longest channel name, in bytes. */
export const MAX_CHANNEL_BYTES = 255;

/** Commands the server understands itself; no application may register or send them. */
export const RESERVED_COMMANDS: ReadonlySet<string> = new Set(['websocket', 'listen', 'unlisten']);

/** The command of every server notice. */
export const NOTICE_COMMAND = 'websocket';

/** Where a frame stands in a channel's history: its offset (1, 2, 3, …) under the history's epoch. */
export interface StreamPosition {
  /** Names one run of the channel's history; a new epoch means the history before it is gone. */
  readonly epoch: string;
  /** The frame's place in the run, from 1; 0 before the first frame. */
  readonly offset: number;
}

/** A member of a presence channel: one session, and what the channel's `info` said of it when it joined. */
export interface PresenceMember {
  /** The session's id. */
  readonly sessionId: string;
  /** What the channel's `info` function returned for the session, if it has one. */
  readonly info?: unknown;
}

/** What a notice answers, as acknowledged mode names it. */
export type NoticeSubject =
  | { readonly op: 'listen' | 'unlisten' | 'recover' | 'presence'; readonly channel: string }
  | { readonly op: 'refresh' }
  | { readonly op: 'command'; readonly command: string }
  | { readonly op: 'frame' }
  | { readonly op: 'open' };

/** What a successful answer of acknowledged mode may carry besides `ok: true`. */
export interface AnswerDetails {
  /** A listen (of a channel with history) or a recover: the position from which the stream goes on. */
  readonly position?: StreamPosition;
  /** A listen with `since`, or a recover: whether every missed frame was sent again. */
  readonly recovered?: boolean;
  /** A listen with `since`, or a recover: how many frames were sent again. */
  readonly missed?: number;
  /** A listen (of a channel with presence) or a presence request: the members now. */
  readonly members?: readonly PresenceMember[];
  /** A refresh: when the new token expires, in milliseconds since the epoch. */
  readonly expiresAt?: number;
}

/** A notice in acknowledged mode that answers something: the JSON after `websocket: `. */
export type Acknowledgement = NoticeSubject & ((AnswerDetails & { readonly ok: true }) | { readonly ok: false; readonly error: string });

/** A request of acknowledged mode beyond `listen: ` and `unlisten: `: the client sends `websocket: <JSON>`. */
export type ControlRequest =
  | { readonly op: 'listen'; readonly channel: string; readonly since?: StreamPosition }
  | { readonly op: 'recover'; readonly channel: string; readonly since: StreamPosition }
  | { readonly op: 'presence'; readonly channel: string }
  | { readonly op: 'refresh'; readonly token: string };

/** What the server tells a client of acknowledged mode of its own accord: `websocket: <JSON>`. */
export type ServerEvent =
  | ({ readonly event: 'position'; readonly channel: string } & StreamPosition)
  | ({ readonly event: 'dropped'; readonly channel: string } & StreamPosition)
  | { readonly event: 'presence'; readonly channel: string; readonly joins: readonly PresenceMember[]; readonly leaves: readonly PresenceMember[] }
  | { readonly event: 'expiring'; readonly expiresAt: number }
  | { readonly event: 'left'; readonly channel: string; readonly reason: string };

/** The length of `text` in UTF-8, counting a lone surrogate as the 3 bytes of U+FFFD, as encoders do. */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit < 0x80) {
      bytes += 1;
    } else if (unit < 0x800) {
      bytes += 2;
    } else if (unit >= 0xd800 && unit < 0xdc00 && isLowSurrogate(text.charCodeAt(index + 1))) {
      bytes += 4;
      index++;
    } else {
      bytes += 3;
    }
  }
  return bytes;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit < 0xe000;
}

/**
 * Tells why `command` cannot be sent or registered, or returns `undefined` when it can.
 * `reserved` is false for the server's own notices.
 */
export function commandProblem(command: string, reserved = true): string | undefined {
  if (typeof command !== 'string' || command.length === 0) {
    return 'a command must be a non-empty string';
  }
  // A UTF-16 unit is at most 3 UTF-8 bytes, so short commands, every message's, need no counting.
  if (command.length * 3 > MAX_COMMAND_BYTES && utf8ByteLength(command) > MAX_COMMAND_BYTES) {
    return `a command is at most ${MAX_COMMAND_BYTES} bytes`;
  }
  if (command.includes(':')) {
    return 'a command must not contain ":"';
  }
  if (reserved && RESERVED_COMMANDS.has(command)) {
    return `"${command}" is reserved by the protocol`;
  }
  return undefined;
}

/**
 * Splits a text frame at its first `": "`, the rule the server applies to bytes:
 * no separator, one at position 0, or a command longer than 255 bytes means the
 * frame has no command (`undefined`).
 */
export function parseTextFrame(frame: string): { readonly command: string; readonly data: string } | undefined {
  const separator = frame.indexOf(': ');
  // A UTF-16 unit is at most 3 UTF-8 bytes, so short commands need no counting.
  if (separator < 1 || (separator * 3 > MAX_COMMAND_BYTES && utf8ByteLength(frame.slice(0, separator)) > MAX_COMMAND_BYTES)) {
    return undefined;
  }
  return { command: frame.slice(0, separator), data: frame.slice(separator + 2) };
}
