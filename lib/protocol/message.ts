import { withCode } from './errors.js';
import { encodeFrame } from './frame-codec.js';
import { commandProblem } from './rules.js';

/** What a `Message` may carry: text as is, bytes as a binary frame, anything else as JSON. */
export type MessageData = string | Uint8Array | object | number | boolean | null | undefined;

/**
 * One frame for a client: a command and its data.
 *
 * The frame is encoded once, when the message is made, so a message pushed to many
 * sessions costs one encoding. String data and JSON go out as a text frame; bytes
 * go out as a binary frame, since they need not be valid UTF-8.
 */
export class Message {
  /** The encoded frame, `<command>: <data>`. */
  readonly frame: Buffer;
  /** Whether the frame is sent as a binary WebSocket message. */
  readonly binary: boolean;

  /**
   * @param command 1 to 255 bytes, no `:`, not `websocket`, `listen` or `unlisten`.
   * @param data a string, bytes, or any value that `JSON.stringify` accepts; empty when omitted.
   * @throws TypeError (`EASY_WS_INVALID_MESSAGE`) when the command is not valid or JSON cannot represent the data.
   */
  constructor(
    /** The command of the frame. */
    readonly command: string,
    data?: MessageData,
  ) {
    const problem = commandProblem(command);
    if (problem) {
      throw withCode(new TypeError(`Invalid message command ${JSON.stringify(command)}: ${problem}`), 'EASY_WS_INVALID_MESSAGE');
    }
    this.binary = data instanceof Uint8Array;
    this.frame = encodeFrame(command, encodeData(data));
  }

  /**
   * Wraps a frame that was encoded elsewhere (on another instance, for a broker);
   * the frame is trusted to be `<command>: <data>` with a valid command.
   */
  static fromFrame(frame: Buffer, binary: boolean): Message {
    const message: Message = Object.create(Message.prototype);
    const separator = frame.indexOf(': ');
    return Object.assign(message, { command: frame.toString('utf8', 0, separator), frame, binary });
  }

  /** The data part of the frame, as text. */
  get text(): string {
    return this.frame.toString('utf8', Buffer.byteLength(this.command) + 2);
  }
}

function encodeData(data: MessageData): string | Uint8Array {
  if (data === undefined) {
    return '';
  }
  if (typeof data === 'string' || data instanceof Uint8Array) {
    return data;
  }
  const json = JSON.stringify(data);
  if (json === undefined) {
    throw withCode(new TypeError('Message data must be a string, bytes or a JSON-serialisable value'), 'EASY_WS_INVALID_MESSAGE');
  }
  return json;
}
