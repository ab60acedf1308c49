import type { INestApplication } from '@nestjs/common';
import WebSocket from 'ws';
import { noticeOf, parseNotice } from '../client/channel-requests.js';
import { EasyWsNoticeError } from '../client/client-events.js';
import { withCode } from '../protocol/errors.js';
import {
  ACKNOWLEDGED_SUBPROTOCOL,
  type Acknowledgement,
  commandProblem,
  type ControlRequest,
  NOTICE_COMMAND,
  type NoticeSubject,
  type PresenceMember,
  type ServerEvent,
  type StreamPosition,
} from '../protocol/rules.js';
import { invalidOption } from '../utils/option-checks.js';
import { testEndpoint } from './app-endpoint.js';
import { callSite, type Expectation, FrameInbox, type FrameMatcher, showClose } from './frame-inbox.js';
import type { TestFrame } from './interfaces/test-frame.interface.js';
import { resolveTestClientOptions, type TestClientOptions } from './test-client-options.js';
import { type ConnectionClose, EasyWsConnectionRefusedError } from './test-errors.js';
import { receivedFrame } from './test-frame.js';

/** How long an expectation may wait. */
export interface ExpectOptions {
  /** In milliseconds. Default: the client's `timeout` (2000). */
  timeout?: number;
}

/**
 * A client for the tests of an application built on `EasyWsModule`: a real WebSocket
 * to the application's endpoint that keeps every frame it receives, so that a test
 * awaits what it expects (`expectFrame`, `expectNoFrame`, `expectClose`) instead of
 * sleeping, and a failure says what did arrive. It imports no test runner: Jest,
 * Vitest and `node:test` alike see its failures as rejected promises.
 */
export class EasyWsTestClient {
  private readonly inbox = new FrameInbox();
  private readonly closing: Promise<ConnectionClose>;

  private constructor(
    private readonly socket: WebSocket,
    private readonly timeout: number,
  ) {
    socket.on('message', (data: Buffer, binary: boolean) => this.inbox.arrive(receivedFrame(data, binary)));
    this.closing = new Promise((resolve) =>
      socket.once('close', (code: number, reason: Buffer) => {
        const close = { code, reason: reason.toString() };
        this.inbox.close(close);
        resolve(close);
      }),
    );
  }

  /**
   * Opens a connection to the application's endpoint (listening on a free port of
   * 127.0.0.1 first if the application does not listen yet), or to the endpoint at a
   * URL, and resolves once it is open.
   * @throws EasyWsConnectionRefusedError (`EASY_WS_CONNECTION_REFUSED`) when the server answers with an HTTP status instead;
   *   TypeError (`EASY_WS_INVALID_OPTIONS`) for options that cannot work.
   */
  static async connect(target: INestApplication | string | URL, options: TestClientOptions = {}): Promise<EasyWsTestClient> {
    const resolved = resolveTestClientOptions(options);
    const { url, headers } = await testEndpoint(target, resolved);
    const socket = new WebSocket(url, [...resolved.protocols], { headers, handshakeTimeout: resolved.timeout });
    const client = new EasyWsTestClient(socket, resolved.timeout);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', resolve);
      // After the handshake an error ends in a close (1006), which every expectation reports.
      socket.on('error', reject);
      socket.once('unexpected-response', (request, response) => {
        const body: Buffer[] = [];
        response.on('data', (chunk: Buffer) => body.push(chunk));
        response.once('end', () => {
          reject(new EasyWsConnectionRefusedError(response.statusCode ?? 0, Buffer.concat(body).toString()));
          request.destroy();
        });
      });
    });
    return client;
  }

  /** The subprotocol the server chose: `easy-ws.v1`, `cmd.fossores.de`, or `''` for none. */
  get protocol(): string {
    return this.socket.protocol;
  }

  /** The frames that arrived and were not taken by an expectation yet, oldest first. */
  get unread(): readonly TestFrame[] {
    return this.inbox.frames;
  }

  /**
   * Sends `command: data`; bytes go as a binary frame.
   * @throws TypeError (`EASY_WS_INVALID_ARGUMENT`) for a command the protocol does not allow
   *   (`listen` and `unlisten` have methods of their own; `sendFrame` sends anything);
   *   Error (`EASY_WS_CLIENT_CLOSED`) once the connection is closed.
   */
  send(command: string, data: string | Uint8Array = ''): void {
    const problem = commandProblem(command);
    if (problem) {
      throw withCode(new TypeError(`EasyWsTestClient: cannot send ${JSON.stringify(command)}: ${problem}`), 'EASY_WS_INVALID_ARGUMENT');
    }
    this.sendFrame(typeof data === 'string' ? `${command}: ${data}` : Buffer.concat([Buffer.from(`${command}: `), data]));
  }

  /** Sends `command: <value as JSON>`, with the errors of `send`. */
  sendJson(command: string, value: unknown): void {
    const json = JSON.stringify(value);
    if (json === undefined) {
      throw withCode(new TypeError(`EasyWsTestClient: the data of ${JSON.stringify(command)} cannot be written as JSON`), 'EASY_WS_INVALID_ARGUMENT');
    }
    this.send(command, json);
  }

  /**
   * Sends a frame as it is, checked by nothing: a text frame for a string, a binary frame
   * for bytes. For tests of what the server does with any frame.
   * @throws Error (`EASY_WS_CLIENT_CLOSED`) once the connection is closed.
   */
  sendFrame(frame: string | Uint8Array): void {
    if (this.socket.readyState !== WebSocket.OPEN) {
      const closed = this.inbox.closed;
      throw withCode(new Error(`EasyWsTestClient: the connection is closed${closed ? ` ${showClose(closed)}` : ''}`), 'EASY_WS_CLIENT_CLOSED');
    }
    this.socket.send(frame, { binary: typeof frame !== 'string' });
  }

  /**
   * Listens to `channel` and resolves with the server's answer; the frames the channel's
   * method sends first stay unread, for `expectFrame`. Acknowledged mode only (the
   * default): the original protocol does not answer a listen; there, send the frame
   * with `sendFrame('listen: <channel>')`.
   * @throws EasyWsNoticeError (`EASY_WS_NOTICE`), with the notice text as message, when the server refuses;
   *   EasyWsExpectationError (`EASY_WS_EXPECTATION_FAILED`) when no answer comes in time.
   */
  listen(channel: string, options: ExpectOptions = {}): Promise<Acknowledgement> {
    return this.request({ op: 'listen', channel }, `listen: ${channel}`, options, this.listen);
  }

  /** Stops listening to `channel`, with the answers and errors of `listen`. */
  unlisten(channel: string, options: ExpectOptions = {}): Promise<Acknowledgement> {
    return this.request({ op: 'unlisten', channel }, `unlisten: ${channel}`, options, this.unlisten);
  }

  /**
   * Listens to `channel` as `EasyWsClient` does, with acknowledged mode's listen request:
   * the session then gets `position` events before the frames of a channel with history,
   * and `presence` events of a channel with presence (`expectEvent`). The answer carries
   * the channel's `position` and `members`; with `since`, the frames after it come
   * first (unread, for `expectEvent` and `expectFrame`) and the answer says whether all
   * were `recovered`. Errors as for `listen`.
   */
  track(channel: string, options: ExpectOptions & { readonly since?: StreamPosition } = {}): Promise<Acknowledgement> {
    const { since } = options;
    return this.control({ op: 'listen', channel, ...(since && { since }) }, options, this.track);
  }

  /** Asks for the frames of `channel` after `since` again, as a client that saw a gap does; resolves with the answer. */
  recover(channel: string, since: StreamPosition, options: ExpectOptions = {}): Promise<Acknowledgement> {
    return this.control({ op: 'recover', channel, since }, options, this.recover);
  }

  /** The members of a presence channel the session listens to, as the server answers a presence request. */
  async presence(channel: string, options: ExpectOptions = {}): Promise<readonly PresenceMember[]> {
    const answer = await this.control({ op: 'presence', channel }, options, this.presence);
    return answer.ok ? (answer.members ?? []) : [];
  }

  /**
   * Sends a new token over the socket and resolves with the answer (its `expiresAt`). A
   * token the server refuses closes the connection with 4001: await `expectClose(4001)`.
   */
  refresh(token: string, options: ExpectOptions = {}): Promise<Acknowledgement> {
    return this.control({ op: 'refresh', token }, options, this.refresh);
  }

  /**
   * Takes the next event of acknowledged mode of this kind (`position`, `dropped`,
   * `presence`, `expiring`, `left`), waiting for it if none has arrived; what comes
   * before it stays unread.
   * @throws EasyWsExpectationError (`EASY_WS_EXPECTATION_FAILED`) when none comes in time.
   */
  async expectEvent<K extends ServerEvent['event']>(event: K, options: ExpectOptions = {}): Promise<Extract<ServerEvent, { event: K }>> {
    const isEvent = (frame: TestFrame): boolean => frame.command === NOTICE_COMMAND && serverEvent(frame.data)?.event === event;
    const frame = await this.inbox.take(
      { what: `an event "${event}"`, none: `no event "${event}"`, match: isEvent, from: this.expectEvent },
      options.timeout ?? this.timeout,
    );
    return serverEvent(frame.data) as Extract<ServerEvent, { event: K }>;
  }

  /**
   * Takes the oldest frame with this command (or any frame, without one), waiting for it
   * if none has arrived; frames before it that do not match stay unread.
   * @throws EasyWsExpectationError (`EASY_WS_EXPECTATION_FAILED`), listing the unread frames,
   *   when none comes within the timeout or the connection closes first.
   */
  expectFrame(match?: string | FrameMatcher, options: ExpectOptions = {}): Promise<TestFrame> {
    return this.inbox.take(expectation(match, this.expectFrame), options.timeout ?? this.timeout);
  }

  /**
   * Resolves when no frame (with this command, or matching) arrives within `ms`; one
   * that did arrive, even before the call, fails it and stays unread.
   * @throws EasyWsExpectationError (`EASY_WS_EXPECTATION_FAILED`) naming the frame.
   */
  expectNoFrame(ms = 100, match?: string | FrameMatcher): Promise<void> {
    return this.inbox.none(expectation(match, this.expectNoFrame), ms);
  }

  /**
   * Resolves with the code and reason once the connection has closed.
   * @param code the close code the test expects; any, without one.
   * @throws EasyWsExpectationError (`EASY_WS_EXPECTATION_FAILED`) when it does not close in time, or closes with another code.
   */
  async expectClose(code?: number, options: ExpectOptions = {}): Promise<ConnectionClose> {
    const site = callSite(this.expectClose);
    const timeout = options.timeout ?? this.timeout;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expected = code === undefined ? 'the connection to close' : `the connection to close with ${code}`;
    const close = await Promise.race([this.closing, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeout)))]).finally(() =>
      clearTimeout(timer),
    );
    if (close === undefined) {
      throw this.inbox.failure(site, `Expected ${expected} within ${timeout} ms, but it is still open`);
    }
    if (code !== undefined && close.code !== code) {
      throw this.inbox.failure(site, `Expected ${expected}, but it closed ${showClose(close)}`);
    }
    return close;
  }

  /** Closes the connection (1000 by default) and resolves once it has closed. */
  async close(code?: number, reason?: string): Promise<ConnectionClose> {
    if (this.socket.readyState === WebSocket.CONNECTING || this.socket.readyState === WebSocket.OPEN) {
      this.socket.close(code, reason);
    }
    return this.closing;
  }

  /** Sends a request of acknowledged mode, `websocket: <JSON>`, and settles with its answer. */
  private control(request: ControlRequest, options: ExpectOptions, from: Expectation['from']): Promise<Acknowledgement> {
    const subject: NoticeSubject = request.op === 'refresh' ? { op: 'refresh' } : { op: request.op, channel: request.channel };
    return this.request(subject, `${NOTICE_COMMAND}: ${JSON.stringify(request)}`, options, from);
  }

  /**
   * Sends a frame that acknowledged mode answers and settles with its answer. Every
   * such request goes through here, so that a new one is one method that names what it sends.
   */
  private async request(subject: NoticeSubject, sent: string, options: ExpectOptions, from: Expectation['from']): Promise<Acknowledgement> {
    const { op } = subject;
    const channel = 'channel' in subject ? subject.channel : undefined;
    if (this.protocol !== ACKNOWLEDGED_SUBPROTOCOL) {
      throw invalidOption(
        'EasyWsTestClient',
        `${op}() waits for the server's answer, which only acknowledged mode (${ACKNOWLEDGED_SUBPROTOCOL}) gives, and this connection ` +
          `speaks ${this.protocol ? `"${this.protocol}"` : 'no subprotocol'}: offer ${ACKNOWLEDGED_SUBPROTOCOL} (the default), or send the frame with sendFrame('${sent}')`,
      );
    }
    this.sendFrame(sent);
    const answers = (frame: TestFrame): boolean => {
      const answer = frame.command === NOTICE_COMMAND ? acknowledgement(frame.data) : undefined;
      return answer !== undefined && answer.op === op && (answer as { channel?: string }).channel === channel;
    };
    const what = `answer to "${sent}"`;
    const frame = await this.inbox.take({ what: `an ${what}`, none: `no ${what}`, match: answers, from }, options.timeout ?? this.timeout);
    const answer = acknowledgement(frame.data) as Acknowledgement;
    if (!answer.ok) {
      throw new EasyWsNoticeError(noticeOf(answer));
    }
    return answer;
  }
}

/** The answer in the data of a notice of acknowledged mode, if it is one (not an event). */
function acknowledgement(data: string): Acknowledgement | undefined {
  const notice = parseNotice(data);
  return notice && 'answer' in notice ? notice.answer : undefined;
}

/** The event in the data of a notice of acknowledged mode, if it is one. */
function serverEvent(data: string): ServerEvent | undefined {
  const notice = parseNotice(data);
  return notice && 'event' in notice ? notice.event : undefined;
}

/** An expectation of frames with `match` for its command, or any frame. */
function expectation(match: string | FrameMatcher | undefined, from: Expectation['from']): Expectation {
  const [subject, matches]: [string, FrameMatcher] =
    match === undefined
      ? ['frame', () => true]
      : typeof match === 'string'
        ? [`frame "${match}"`, (frame) => frame.command === match]
        : [`frame that matches ${match.name || 'the test\'s function'}`, match];
  return { what: `a ${subject}`, none: `no ${subject}`, match: matches, from };
}
