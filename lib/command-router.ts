import { HttpException, HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { isObservable, type Observable, tap } from 'rxjs';
import type { NoticeSubject } from './client/protocol.js';
import { CLOSE_CODES, EASY_WS_OPTIONS } from './constants.js';
import type { EasyWsSession } from './easy-ws-session.js';
import type { HandlerTable, RouteHandler } from './easy-ws.explorer.js';
import { parseFrame, type ParsedFrame } from './frame-codec.js';
import { Message } from './message.js';
import type { ResolvedEasyWsOptions } from './options.js';
import { SessionRegistry } from './session-registry.js';

/** The fixed notice texts of the protocol; old clients match on them. */
export const NOTICES = {
  notAuthorized: 'not authorized',
  channelDoesNotExist: 'channel does not exist',
  alreadyListening: 'already listening',
  notSupported: 'command not supported by server',
  notListening: 'not listening',
  internalError: 'internal server error',
  invalidJson: 'data is not valid JSON',
  tooManyChannels: 'too many channels',
  rateLimited: 'rate limited',
} as const;

/** Stands for data that a JSON handler cannot take. */
const INVALID_JSON = Symbol('invalid JSON');

/** Notices in the original form, encoded once. */
const LEGACY_NOTICES = new Map(Object.values(NOTICES).map((text) => [text as string, Message.notice(text)]));

/**
 * Carries out the protocol for one session: routes each frame to `listen`,
 * `unlisten` or the application's handler, sends replies and notices, and runs
 * the open and close hooks. Every error stops here; none reaches the socket layer.
 */
@Injectable()
export class CommandRouter {
  private readonly logger = new Logger('EasyWs');
  private table: HandlerTable | undefined;

  constructor(
    private readonly registry: SessionRegistry,
    @Inject(EASY_WS_OPTIONS) private readonly options: ResolvedEasyWsOptions,
  ) {}

  /** @internal Installs the handler table built at start-up. */
  load(table: HandlerTable): void {
    this.table = table;
  }

  /** Runs the open hooks; a session whose hook fails gets the notice and is closed. */
  async open(session: EasyWsSession): Promise<void> {
    for (const handler of this.handlers().open) {
      const error = await this.run(session, handler, session.id, 'open');
      if (error !== undefined) {
        this.notify(session, { op: 'open' }, error);
        session.close(error === NOTICES.internalError ? CLOSE_CODES.internalError : CLOSE_CODES.policyViolation, error);
        return;
      }
    }
  }

  /** Runs the close hooks, after the session has left the registry. */
  async close(session: EasyWsSession): Promise<void> {
    for (const handler of this.handlers().close) {
      await this.run(session, handler, session.id, 'close');
    }
  }

  /** Handles one frame the client sent; a frame over the rate limit only gets the notice. */
  async handle(session: EasyWsSession, frame: Buffer, isBinary: boolean): Promise<void> {
    const parsed = parseFrame(frame, isBinary);
    if (!session.admitFrame()) {
      return this.notify(session, subjectOf(parsed), NOTICES.rateLimited);
    }
    if (!parsed) {
      return this.notify(session, { op: 'frame' }, NOTICES.notSupported);
    }
    const { command, data } = parsed;
    if (command === 'listen' || command === 'unlisten') {
      const channel = data.toString();
      return command === 'listen' ? this.listen(session, channel) : this.unlisten(session, channel);
    }
    const handler = this.handlers().commands.get(command);
    const error = handler ? await this.run(session, handler, handler.parsesJson ? parseJson(data) : data, command) : NOTICES.notSupported;
    if (error !== undefined) {
      this.notify(session, { op: 'command', command }, error);
    }
  }

  private async listen(session: EasyWsSession, channel: string): Promise<void> {
    const subject = { op: 'listen', channel } as const;
    const match = this.handlers().channels.match(channel);
    if (!match) {
      return this.notify(session, subject, NOTICES.channelDoesNotExist);
    }
    if (session.channels.has(channel)) {
      return this.notify(session, subject, NOTICES.alreadyListening);
    }
    if (session.channels.size >= this.options.maxChannelsPerSession) {
      return this.notify(session, subject, NOTICES.tooManyChannels);
    }
    let result: unknown;
    try {
      result = await match.target.invoke(session, { channel, params: match.params }, 'listen');
    } catch (error) {
      // A WsException is a guard's refusal with a reason, not a fault.
      if (!isDenial(error) && !(error instanceof WsException)) {
        this.logger.error(`${match.target.owner} failed, so the listen was refused`, (error as Error)?.stack ?? error);
      }
      // A guard's reason never reaches the client, whatever it threw.
      return this.notify(session, subject, NOTICES.notAuthorized);
    }
    if (this.registry.get(session.id) !== session) {
      return; // it closed while the guard ran
    }
    this.registry.subscribe(session, channel);
    await this.registry.channelReady(channel);
    // The answer waits for the listener's first frame, so that a listen gets exactly
    // one answer even when that frame fails, and a failed listen leaves no subscription.
    const error = await this.deliver(session, match.target, result);
    if (error !== undefined) {
      this.registry.unsubscribe(session, channel);
    }
    this.notify(session, subject, error);
  }

  private unlisten(session: EasyWsSession, channel: string): void {
    const listened = this.registry.unsubscribe(session, channel);
    this.notify(session, { op: 'unlisten', channel }, listened ? undefined : NOTICES.notListening);
  }

  /** Runs a handler and sends its result; returns the notice text when it failed. */
  private async run(session: EasyWsSession, handler: RouteHandler, data: unknown, pattern: string): Promise<string | undefined> {
    if (data === INVALID_JSON) {
      return NOTICES.invalidJson;
    }
    let result: unknown;
    try {
      result = await handler.invoke(session, data, pattern);
    } catch (error) {
      return this.describe(error, handler);
    }
    return this.deliver(session, handler, result);
  }

  /**
   * Sends a handler's result: a message, nothing, or every message an Observable
   * emits. The session's next frame waits until the Observable completes, so that
   * replies keep the order of the frames; a closing session ends the subscription.
   */
  private async deliver(session: EasyWsSession, handler: RouteHandler, result: unknown): Promise<string | undefined> {
    try {
      if (isObservable(result)) {
        await this.stream(session, handler, result);
      } else {
        this.reply(session, handler, result);
      }
      return undefined;
    } catch (error) {
      return this.describe(error, handler);
    }
  }

  private stream(session: EasyWsSession, handler: RouteHandler, result: Observable<unknown>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const { closed } = session;
      const stop = (): void => {
        subscription.unsubscribe();
        resolve();
      };
      const finish = (): void => closed.removeEventListener('abort', stop);
      // Through tap, a value that is not a message fails the stream; thrown from a
      // subscriber's next, rxjs would rethrow it outside any try and the stream would never end.
      const subscription = result.pipe(tap((value) => this.reply(session, handler, value))).subscribe({
        error: (error: unknown) => {
          finish();
          reject(error);
        },
        complete: () => {
          finish();
          resolve();
        },
      });
      if (subscription.closed) {
        return;
      }
      if (closed.aborted) {
        stop(); // the client left while the handler ran
      } else {
        closed.addEventListener('abort', stop, { once: true });
      }
    });
  }

  private reply(session: EasyWsSession, handler: RouteHandler, value: unknown): void {
    if (value instanceof Message) {
      session.send(value);
    } else if (value !== undefined && value !== null) {
      throw new TypeError(`${handler.owner} returned ${describeValue(value)}; a handler returns a Message, nothing, or an Observable of messages`);
    }
  }

  /** The notice text for an error; anything unexpected is logged with its stack. */
  private describe(error: unknown, handler: RouteHandler): string {
    if (error instanceof WsException) {
      return wsExceptionText(error);
    }
    if (isDenial(error)) {
      return NOTICES.notAuthorized;
    }
    this.logger.error(`${handler.owner} failed: ${(error as Error)?.message ?? String(error)}`, (error as Error)?.stack);
    return NOTICES.internalError;
  }

  /** Sends the notice that answers `subject`, if the session's mode has one. */
  private notify(session: EasyWsSession, subject: NoticeSubject, error?: string): void {
    const notice = noticeFor(session, subject, error);
    if (notice) {
      session.send(notice);
    }
  }

  private handlers(): HandlerTable {
    if (!this.table) {
      throw new Error('EasyWs: the handler table is not loaded yet');
    }
    return this.table;
  }
}

/** What a frame is, as a notice that answers it names it. */
export function subjectOf(parsed: ParsedFrame | undefined): NoticeSubject {
  if (!parsed) {
    return { op: 'frame' };
  }
  const { command, data } = parsed;
  return command === 'listen' || command === 'unlisten' ? { op: command, channel: data.toString() } : { op: 'command', command };
}

/**
 * The notice that answers `subject` for this session, if any: in the original mode
 * only failures are answered, with the bare text; in acknowledged mode every answer
 * is JSON that names what it answers.
 */
export function noticeFor(session: EasyWsSession, subject: NoticeSubject, error: string): Message;
export function noticeFor(session: EasyWsSession, subject: NoticeSubject, error?: string): Message | undefined;
export function noticeFor(session: EasyWsSession, subject: NoticeSubject, error?: string): Message | undefined {
  if (session.acknowledged) {
    const answer = error === undefined ? { ...subject, ok: true } : { ...subject, ok: false, error };
    return Message.notice(JSON.stringify(answer));
  }
  return error === undefined ? undefined : (LEGACY_NOTICES.get(error) ?? Message.notice(error));
}

/** A guard's "no": Nest throws ForbiddenException for a guard that returns false. */
function isDenial(error: unknown): boolean {
  if (!(error instanceof HttpException)) {
    return false;
  }
  const status = error.getStatus();
  return status === HttpStatus.FORBIDDEN || status === HttpStatus.UNAUTHORIZED;
}

function parseJson(data: string | Buffer): unknown {
  try {
    return JSON.parse(data.toString());
  } catch {
    return INVALID_JSON;
  }
}

function wsExceptionText(error: WsException): string {
  const content = error.getError();
  if (typeof content === 'string') {
    return content;
  }
  const message = (content as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : JSON.stringify(content);
}

function describeValue(value: unknown): string {
  return typeof value === 'object' ? `an object (${(value as object).constructor?.name ?? 'null prototype'})` : `a ${typeof value}`;
}
