import type { TestFrame } from './interfaces/test-frame.interface.js';

/** How a connection closed. */
export interface ConnectionClose {
  /** The close code, such as 1000, or 1006 when the connection ended without a close frame. */
  readonly code: number;
  /** The close reason, `''` for none. */
  readonly reason: string;
}

/**
 * The test client did not see what the test expected. Its message lists what did
 * arrive; a test runner shows it as the test's failure.
 */
export class EasyWsExpectationError extends Error {
  /** The stable code of this error. */
  readonly code = 'EASY_WS_EXPECTATION_FAILED' as const;

  constructor(
    message: string,
    /** The frames that had arrived and were not taken yet when the expectation failed. */
    readonly received: readonly TestFrame[],
    /** How the connection closed, if it had. */
    readonly closed?: ConnectionClose,
  ) {
    super(message);
    this.name = 'EasyWsExpectationError';
  }
}

/** The server refused the test client's connection with an HTTP answer instead of an upgrade. */
export class EasyWsConnectionRefusedError extends Error {
  /** The stable code of this error. */
  readonly code = 'EASY_WS_CONNECTION_REFUSED' as const;

  constructor(
    /** The HTTP status: 403 for a refused token or origin, 503 for a limit, 404 for a path nothing serves. */
    readonly status: number,
    /** The body of the answer, such as `Authentication failed\n`. */
    readonly body: string,
  ) {
    super(`The server refused the connection: ${status} ${JSON.stringify(body)}`);
    this.name = 'EasyWsConnectionRefusedError';
  }
}
