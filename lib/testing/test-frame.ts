import { parseTextFrame } from '../protocol/rules.js';
import type { TestFrame } from './interfaces/test-frame.interface.js';
import { EasyWsExpectationError } from './test-errors.js';

/** Frames longer than this are cut in failure messages. */
const SHOWN_CHARACTERS = 200;

/** A received frame, split as the server splits frames. */
export function receivedFrame(bytes: Buffer, binary: boolean): TestFrame {
  const text = bytes.toString();
  // The server always sends a command; a frame without one keeps all of its text as data.
  const { command, data } = parseTextFrame(text) ?? { command: '', data: text };
  return {
    command,
    data,
    text,
    binary,
    bytes,
    json<T>(): T {
      try {
        return JSON.parse(data) as T;
      } catch {
        throw new EasyWsExpectationError(`Expected the data of the frame "${command}" to be JSON, got ${show(this)}`, [this]);
      }
    },
  };
}

/** A frame as a failure message shows it. */
export function show(frame: TestFrame): string {
  const text = frame.text.length > SHOWN_CHARACTERS ? `${frame.text.slice(0, SHOWN_CHARACTERS)}… (${frame.bytes.length} bytes)` : frame.text;
  return `${JSON.stringify(text)}${frame.binary ? ' (binary)' : ''}`;
}
