/**
 * The wire format of the command protocol in bytes: `<command>: <data>`.
 *
 * Pure functions with no Nest or ws imports, so that the codec can be tested and
 * fuzzed on its own. Everything that reads or writes a frame on the server goes
 * through here; the limits and checks come from the rules the client shares.
 */

import { MAX_COMMAND_BYTES } from './rules.js';

const COLON = 0x3a;
const SPACE = 0x20;
const SEPARATOR = Buffer.from(': ');

/** A frame split into its command and its data. */
export interface ParsedFrame {
  /** The command, as text. */
  readonly command: string;
  /** A string for a text frame, the bytes for a binary frame. */
  readonly data: string | Buffer;
}

/**
 * Splits a frame at the first `": "` that starts within its first 256 bytes.
 *
 * Returns `undefined` for a frame with no command (no separator there, or one at
 * position 0). Never throws, whatever the bytes.
 */
export function parseFrame(frame: Buffer, isBinary: boolean): ParsedFrame | undefined {
  const limit = Math.min(frame.length - 1, MAX_COMMAND_BYTES + 1);
  for (let index = 0; index < limit; index++) {
    if (frame[index] === COLON && frame[index + 1] === SPACE) {
      if (index === 0) {
        return undefined; // the first separator decides, even when another follows
      }
      const command = frame.toString('utf8', 0, index);
      const data = isBinary ? frame.subarray(index + 2) : frame.toString('utf8', index + 2);
      return { command, data };
    }
  }
  return undefined;
}

/** Encodes `command: data` into one buffer; the command must already be valid. */
export function encodeFrame(command: string, data: string | Uint8Array): Buffer {
  if (typeof data === 'string') {
    return Buffer.from(`${command}: ${data}`);
  }
  const commandBytes = Buffer.byteLength(command);
  const frame = Buffer.allocUnsafe(commandBytes + SEPARATOR.length + data.length);
  frame.write(command, 0);
  SEPARATOR.copy(frame, commandBytes);
  frame.set(data, commandBytes + SEPARATOR.length);
  return frame;
}

/** The longest start of `text` that is at most `maxBytes` in UTF-8, cut at a character boundary. */
export function cutUtf8(text: string, maxBytes: number): string {
  // A UTF-16 unit is at most 3 UTF-8 bytes, so short texts need no encoding.
  if (text.length * 3 <= maxBytes) {
    return text;
  }
  const bytes = Buffer.from(text);
  if (bytes.length <= maxBytes) {
    return text;
  }
  let end = maxBytes;
  // A UTF-8 continuation byte (10xxxxxx) at the cut means a character would be split.
  while ((bytes[end] & 0xc0) === 0x80) {
    end--;
  }
  return bytes.toString('utf8', 0, end);
}
