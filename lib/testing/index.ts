/**
 * A client for the tests of applications built on `EasyWsModule`:
 * `nestjs-easy-ws/testing`. It runs in Node, imports no test runner, and needs nothing
 * of `@nestjs/testing` beyond the application a test hands it.
 *
 * @packageDocumentation
 */
export { EasyWsTestClient, type ExpectOptions } from './easy-ws-test-client.js';
export type { FrameMatcher } from './frame-inbox.js';
export type { TestClientOptions } from './test-client-options.js';
export { type ConnectionClose, EasyWsConnectionRefusedError, EasyWsExpectationError } from './test-errors.js';
export type { TestFrame } from './interfaces/test-frame.interface.js';
export type { Acknowledgement, AnswerDetails, NoticeSubject, PresenceMember, ServerEvent, StreamPosition } from '../protocol/rules.js';
