import { performance } from 'node:perf_hooks';
import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { admitFrame } from '../endpoint/frame-prelude.js';
import type { ParsedFrame } from '../protocol/frame-codec.js';
import type { Session } from '../endpoint/session.js';
import { CLOSE_CODES } from '../protocol/close-codes.js';
import { parseControlRequest } from '../protocol/control-requests.js';
import { NOTICES } from '../protocol/notices.js';
import { NOTICE_COMMAND } from '../protocol/rules.js';
import { ChannelListening } from './channel-listening.js';
import { type CommandCount, CommandStats, UNKNOWN_COMMAND } from './command-stats.js';
import { HandlerRunner, type Outcome } from './handler-runner.js';
import { HandlerTable } from './handler-table.js';
import type { RouteHandler } from './interfaces/route-handler.interface.js';
import { SessionAuth } from './session-auth.js';

/** Stands for data that a JSON handler cannot take. */
const INVALID_JSON = Symbol('invalid JSON');

/** A command's handler and its counts, found with one lookup per frame. */
interface Route {
  readonly handler: RouteHandler;
  readonly count: CommandCount;
}

/**
 * Carries out the protocol for one session: routes each frame to `listen`,
 * `unlisten`, a request of acknowledged mode or the application's handler, and runs
 * the open and close hooks. Every error stops here; none reaches the socket layer.
 */
@Injectable()
export class CommandRouter implements OnApplicationBootstrap {
  /** The commands' routes: the handler table is complete only after module init. */
  private routes: ReadonlyMap<string, Route> | undefined;
  private readonly listenCount: CommandCount;
  private readonly unlistenCount: CommandCount;
  private readonly requestCount: CommandCount;
  private readonly unknownCount: CommandCount;

  constructor(
    private readonly handlers: HandlerTable,
    private readonly runner: HandlerRunner,
    private readonly listening: ChannelListening,
    private readonly auth: SessionAuth,
    private readonly stats: CommandStats,
  ) {
    this.listenCount = stats.register('listen');
    this.unlistenCount = stats.register('unlisten');
    this.requestCount = stats.register(NOTICE_COMMAND);
    // A frame of no command has no handler whose time to measure.
    this.unknownCount = stats.register(UNKNOWN_COMMAND, false);
  }

  /** Makes the routes, so that every command is counted (with 0) before its first frame. */
  onApplicationBootstrap(): void {
    this.routes ??= this.route();
  }

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
    const route = (this.routes ??= this.route()).get(parsed.command);
    const count = route?.count ?? this.protocolCount(session, parsed.command);
    count.frames++;
    const { durations } = count;
    if (!durations) {
      return this.dispatch(session, parsed, route);
    }
    const started = performance.now();
    const handling = this.dispatch(session, parsed, route);
    if (!handling) {
      durations.record((performance.now() - started) / 1000);
      return undefined;
    }
    return handling.then(() => durations.record((performance.now() - started) / 1000));
  }

  /** The counts of a frame that is no application command: the protocol's own, or `unknown`. */
  private protocolCount(session: Session, command: string): CommandCount {
    switch (command) {
      case 'listen':
        return this.listenCount;
      case 'unlisten':
        return this.unlistenCount;
      case NOTICE_COMMAND:
        return session.acknowledged ? this.requestCount : this.unknownCount;
      default:
        return this.unknownCount;
    }
  }

  /** Carries one admitted frame out: listening, a request of acknowledged mode, or the command's handler (`route`). */
  private dispatch(session: Session, { command, data }: ParsedFrame, route: Route | undefined): Promise<void> | undefined {
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
    if (!route) {
      session.notify({ op: 'command', command }, NOTICES.notSupported);
      return undefined;
    }
    const outcome = this.run(session, route.handler, data, command);
    if (outcome instanceof Promise) {
      return outcome.then((error) => this.answerFailure(session, command, error));
    }
    this.answerFailure(session, command, outcome);
    return undefined;
  }

  private route(): ReadonlyMap<string, Route> {
    return new Map([...this.handlers.commands].map(([command, handler]) => [command, { handler, count: this.stats.register(command) }]));
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
