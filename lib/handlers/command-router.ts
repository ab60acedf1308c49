import { Injectable } from '@nestjs/common';
import { admitFrame } from '../endpoint/frame-prelude.js';
import type { Session } from '../endpoint/session.js';
import { CLOSE_CODES } from '../protocol/close-codes.js';
import { parseControlRequest } from '../protocol/control-requests.js';
import { NOTICES } from '../protocol/notices.js';
import { NOTICE_COMMAND } from '../protocol/rules.js';
import { ChannelListening } from './channel-listening.js';
import { HandlerRunner, type Outcome } from './handler-runner.js';
import { HandlerTable } from './handler-table.js';
import type { RouteHandler } from './interfaces/route-handler.interface.js';
import { SessionAuth } from './session-auth.js';

/** Stands for data that a JSON handler cannot take. */
const INVALID_JSON = Symbol('invalid JSON');

/**
 * Carries out the protocol for one session: routes each frame to `listen`,
 * `unlisten`, a request of acknowledged mode or the application's handler, and runs
 * the open and close hooks. Every error stops here; none reaches the socket layer.
 */
@Injectable()
export class CommandRouter {
  constructor(
    private readonly handlers: HandlerTable,
    private readonly runner: HandlerRunner,
    private readonly listening: ChannelListening,
    private readonly auth: SessionAuth,
  ) {}

  /** Runs the open hooks; a session whose hook fails gets the notice and is closed. */
  async open(session: Session): Promise<void> {
    this.auth.opened(session);
    for (const handler of this.handlers.open) {
      const error = await this.runner.run(session, handler, session.id, 'open');
      if (error !== undefined) {
        session.notify({ op: 'open' }, error);
        session.close(error === NOTICES.internalError ? CLOSE_CODES.internalError : CLOSE_CODES.policyViolation, error);
        return;
      }
    }
  }

  /** Runs the close hooks, after the session has left the registry and its channels' leave methods ran. */
  async close(session: Session): Promise<void> {
    this.auth.closed(session);
    await this.listening.left(session);
    for (const handler of this.handlers.close) {
      await this.runner.run(session, handler, session.id, 'close');
    }
  }

  /**
   * Handles one frame the client sent: at once, returning nothing, when its handler
   * answers at once, else with a promise that settles once it has been handled. A
   * frame over the rate limit only gets the notice.
   */
  handle(session: Session, frame: Buffer, isBinary: boolean): Promise<void> | undefined {
    const parsed = admitFrame(session, frame, isBinary);
    if (!parsed) {
      return undefined;
    }
    const { command, data } = parsed;
    if (command === 'listen') {
      return this.listening.listen(session, data.toString());
    }
    if (command === 'unlisten') {
      this.listening.unlisten(session, data.toString());
      return undefined;
    }
    if (command === NOTICE_COMMAND && session.acknowledged) {
      return this.control(session, data.toString());
    }
    const handler = this.handlers.commands.get(command);
    if (!handler) {
      session.notify({ op: 'command', command }, NOTICES.notSupported);
      return undefined;
    }
    const outcome = this.run(session, handler, data, command);
    if (outcome instanceof Promise) {
      return outcome.then((error) => this.answerFailure(session, command, error));
    }
    this.answerFailure(session, command, outcome);
    return undefined;
  }

  private answerFailure(session: Session, command: string, error: Outcome): void {
    if (error !== undefined) {
      session.notify({ op: 'command', command }, error);
    }
  }

  /** A request of acknowledged mode, `websocket: <JSON>`. */
  private async control(session: Session, data: string): Promise<void> {
    const request = parseControlRequest(data);
    switch (request?.op) {
      case 'listen':
        return this.listening.listenTracked(session, request.channel, request.since);
      case 'recover':
        return this.listening.recover(session, request.channel, request.since);
      case 'presence':
        return this.listening.presenceOf(session, request.channel);
      case 'refresh':
        return this.auth.refresh(session, request.token);
      default:
        // What is not a request of the protocol is answered as before requests existed.
        return session.notify({ op: 'command', command: NOTICE_COMMAND }, NOTICES.notSupported);
    }
  }

  /** Runs a command's handler on the frame's data, parsed first for a handler that takes JSON. */
  private run(session: Session, handler: RouteHandler, data: string | Buffer, command: string): Outcome | Promise<Outcome> {
    if (!handler.parsesJson) {
      return this.runner.run(session, handler, data, command);
    }
    const value = parseJson(data);
    return value === INVALID_JSON ? NOTICES.invalidJson : this.runner.run(session, handler, value, command);
  }
}

function parseJson(data: string | Buffer): unknown {
  try {
    return JSON.parse(data.toString());
  } catch {
    return INVALID_JSON;
  }
}
