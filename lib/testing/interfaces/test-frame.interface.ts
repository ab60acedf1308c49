/** A frame the test client received. */
export interface TestFrame {
  /** The frame's command: `echo` for `echo: hi`, `websocket` for a notice. */
  readonly command: string;
  /** Everything after `<command>: `, as text. */
  readonly data: string;
  /** The whole frame as text, `<command>: <data>`. */
  readonly text: string;
  /** Whether it came as a binary frame (the server's data was bytes). */
  readonly binary: boolean;
  /** The whole frame as it came. */
  readonly bytes: Buffer;
  /**
   * The data parsed as JSON.
   * @throws EasyWsExpectationError (`EASY_WS_EXPECTATION_FAILED`) when it is not JSON.
   */
  json<T = unknown>(): T;
}
