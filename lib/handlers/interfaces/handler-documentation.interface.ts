/**
 * What a declaration says about the frames a handler takes and sends, for the AsyncAPI
 * document of the endpoint. Nothing here changes what a handler does: the frames a
 * method really sends are whatever it returns or pushes.
 */

/** A JSON Schema (draft 07, AsyncAPI's default schema format), as a plain object. */
export type JsonSchema = { readonly [keyword: string]: unknown };

/**
 * The data of a frame, as the AsyncAPI document describes it:
 *
 * - `String`: text (a `Message` whose data is a string);
 * - `Number`, `Boolean`, `Array`: that JSON value;
 * - `Uint8Array` (or `Buffer`): bytes, sent as a binary frame;
 * - a class: JSON described by its class-validator decorators (a DTO);
 * - a JSON Schema object: JSON or text as the schema says (`{ type: 'string' }` is text).
 */
export type PayloadType = (abstract new (...args: never[]) => unknown) | JsonSchema;

/** A frame the server sends, with its data and what it means. */
export interface DescribedFrame {
  /** The frame's command, such as `said` for `said: {…}`. */
  readonly command: string;
  /**
   * Its data. Declare it in one place; elsewhere the command's name alone stands for it.
   * Without a payload anywhere, the document says the data is not described.
   */
  readonly payload?: PayloadType;
  /** A short summary of the frame. */
  readonly summary?: string;
  /** A longer description; CommonMark is allowed. */
  readonly description?: string;
}

/**
 * A frame the server sends: its command alone (`'said'`, described where another
 * declaration gives its payload) or a `DescribedFrame`.
 */
export type FrameDeclaration = string | DescribedFrame;

/** What the AsyncAPI document says of a `@Command` or `@OnOpen` method; also the options of those decorators. */
export interface HandlerDocumentation {
  /** A short summary of what the handler does. */
  readonly summary?: string;
  /** A longer description; CommonMark is allowed. */
  readonly description?: string;
  /**
   * The frames the method sends back to the session: its return value (each emission of
   * an Observable), and frames it sends the session otherwise.
   */
  readonly replies?: readonly FrameDeclaration[];
}

/** What the AsyncAPI document says of a `@ListenChannel` channel. */
export interface ChannelDocumentation extends HandlerDocumentation {
  /** The frames pushed to the channel's listeners (`PushService.toChannel`). */
  readonly pushes?: readonly FrameDeclaration[];
}
