import { Injectable } from '@nestjs/common';
import type { Session } from '../endpoint/session.js';
import { NOTICES } from '../protocol/notices.js';
import type { AnswerDetails, NoticeSubject, PresenceMember, StreamPosition } from '../protocol/rules.js';
import { positionEvent } from '../protocol/server-events.js';
import type { HistoryEntry } from '../push/broker.interface.js';
import { LocalSessions } from '../push/local-sessions.js';
import type { PendingListen } from '../push/pending-listen.js';
import { PresenceAnnouncer } from '../push/presence-announcer.js';
import { PushService } from '../push/push.service.js';
import { type LeaveReason, SessionEvents } from '../push/session-events.js';
import type { ChannelMatch } from './channel-matcher.js';
import { ChannelSnapshot } from './channel-snapshot.js';
import { CommandStats } from './command-stats.js';
import { HandlerRunner } from './handler-runner.js';
import { HandlerTable } from './handler-table.js';
import type { ChannelHandler } from './interfaces/route-handler.interface.js';

/** The frames a listen sends again, and what its answer says of them. */
interface Replay extends Pick<AnswerDetails, 'recovered' | 'missed'> {
  readonly messages: readonly HistoryEntry[];
  /** Where the stream goes on from: what the client has now. Unknown while the history cannot be read. */
  readonly position?: StreamPosition;
}

/**
 * Listening and leaving: the `listen`, `unlisten` and acknowledged-mode channel requests
 * of a session, and the leave methods of channels.
 *
 * A `listen: <channel>` frame works as it always has. A listen request of acknowledged
 * mode (`websocket: {"op":"listen",…}`) makes the session a tracker of the channel: it
 * gets the position of each frame of a channel with history, and the join and leave
 * events of a channel with presence. While such a listen runs (its guards and method,
 * reading history), what is pushed to the channel waits for the session; then it gets,
 * in this order, the method's frame, the frames it missed, the answer (with the
 * position, whether it recovered, the members), and what waited, none twice.
 */
@Injectable()
export class ChannelListening {
  /** The leave methods running, by session, so that its close hooks can wait for them. */
  private readonly leaving = new Map<Session, Set<Promise<unknown>>>();

  constructor(
    private readonly sessions: LocalSessions,
    private readonly handlers: HandlerTable,
    private readonly runner: HandlerRunner,
    private readonly push: PushService,
    private readonly presence: PresenceAnnouncer,
    private readonly stats: CommandStats,
    events: SessionEvents,
  ) {
    events.on('left', (session, channel, reason) => this.runLeave(session, channel, reason));
  }

  /** `listen: <channel>`: the listen of the original protocol, answered only in acknowledged mode. */
  async listen(session: Session, channel: string): Promise<void> {
    const subject = { op: 'listen', channel } as const;
    const match = this.admissible(session, subject);
    if (!match) {
      return;
    }
    let result: unknown;
    try {
      result = await match.target.invoke(session, { channel, params: match.params }, 'listen');
    } catch (error) {
      return session.notify(subject, this.runner.refusal(error, match.target, 'the listen was refused'));
    }
    if (!this.holds(session)) {
      return; // it closed while the guard ran
    }
    this.sessions.subscribe(session, channel);
    await this.sessions.channelReady(channel);
    // The answer waits for the listener's first frame, so that a listen gets exactly
    // one answer even when that frame fails, and a failed listen leaves no subscription.
    const error = await this.runner.deliver(session, match.target, result instanceof ChannelSnapshot ? result.message : result);
    if (error !== undefined) {
      this.sessions.unsubscribe(session, channel, 'denied');
    }
    session.notify(subject, error);
  }

  /** A listen request of acknowledged mode, perhaps recovering what the client missed `since` a position. */
  async listenTracked(session: Session, channel: string, since?: StreamPosition): Promise<void> {
    const subject = { op: 'listen', channel } as const;
    const match = this.admissible(session, subject);
    if (!match) {
      return;
    }
    const { target: handler, params } = match;
    const pending = this.sessions.begin(session, channel);
    await this.sessions.channelReady(channel);
    const start = handler.settings.history ? await this.position(channel) : undefined;
    let result: unknown;
    try {
      result = await handler.invoke(session, { channel, params, ...(since && { since }) }, 'listen');
    } catch (error) {
      this.sessions.abandon(pending);
      return session.notify(subject, this.runner.refusal(error, handler, 'the listen was refused'));
    }
    const snapshot = result instanceof ChannelSnapshot ? result : undefined;
    const replay = handler.settings.history ? await this.replay(channel, since, snapshot?.position ?? start) : undefined;
    const error = this.holds(session) ? await this.runner.deliver(session, handler, snapshot ? snapshot.message : result) : NOTICES.internalError;
    if (error !== undefined) {
      this.sessions.abandon(pending);
      return session.notify(subject, error);
    }
    await this.resend(session, channel, handler, replay);
    const others = handler.settings.presence ? await this.members(channel) : undefined;
    this.complete(pending, subject, () => ({
      ...(replay && { position: replay.position, recovered: replay.recovered, missed: replay.missed }),
      ...(others && { members: this.withSelf(others, session, channel) }),
    }));
  }

  /** A recover request: the client saw a gap in the offsets of a channel it listens to, and gets what it missed. */
  async recover(session: Session, channel: string, since: StreamPosition): Promise<void> {
    const subject = { op: 'recover', channel } as const;
    if (!session.channels.has(channel)) {
      return session.notify(subject, NOTICES.notListening);
    }
    const match = this.handlers.channels.match(channel);
    if (!match?.target.settings.history) {
      return session.notify(subject, NOTICES.noHistory);
    }
    const pending = this.sessions.begin(session, channel);
    const replay = await this.replay(channel, since, undefined);
    if (!this.holds(session)) {
      return this.sessions.abandon(pending);
    }
    await this.resend(session, channel, match.target, replay);
    this.complete(pending, subject, () => ({ position: replay.position, recovered: replay.recovered, missed: replay.missed }));
  }

  /** `unlisten: <channel>`. */
  unlisten(session: Session, channel: string): void {
    const listened = this.sessions.unsubscribe(session, channel, 'unlisten');
    session.notify({ op: 'unlisten', channel }, listened ? undefined : NOTICES.notListening);
  }

  /** A presence request: the members of a presence channel the session listens to. */
  async presenceOf(session: Session, channel: string): Promise<void> {
    const subject = { op: 'presence', channel } as const;
    if (!session.channels.has(channel)) {
      return session.notify(subject, NOTICES.notListening);
    }
    if (!this.sessions.settingsOf(channel)?.presence) {
      return session.notify(subject, NOTICES.noPresence);
    }
    const members = await this.members(channel);
    session.notify(subject, members ? undefined : NOTICES.internalError, members && { members });
  }

  /** Settles once every leave method started so far for the session has finished. */
  async left(session: Session): Promise<void> {
    await Promise.all(this.leaving.get(session) ?? []);
  }

  /** The declaration of a channel the session may ask to listen to, or `undefined` once the notice that says why not is sent. */
  private admissible(session: Session, subject: { readonly op: 'listen'; readonly channel: string }): ChannelMatch<ChannelHandler> | undefined {
    const match = this.handlers.channels.match(subject.channel);
    const problem = !match
      ? NOTICES.channelDoesNotExist
      : session.channels.has(subject.channel)
        ? NOTICES.alreadyListening
        : session.channels.size >= session.limits.maxChannelsPerSession
          ? NOTICES.tooManyChannels
          : undefined;
    if (problem !== undefined) {
      session.notify(subject, problem);
      return undefined;
    }
    return match;
  }

  /** Whether the session is still open here. */
  private holds(session: Session): boolean {
    return this.sessions.get(session.id) === session;
  }

  /** Where `channel` stands now; unknown while its history cannot be read. */
  private async position(channel: string): Promise<StreamPosition | undefined> {
    try {
      return (await this.push.history(channel, { limit: 0 })).position;
    } catch {
      return undefined;
    }
  }

  /** What to send again (see `plan`), counted as a recovery or not when the client asked for one. */
  private async replay(channel: string, since: StreamPosition | undefined, from: StreamPosition | undefined): Promise<Replay> {
    const replay = await this.plan(channel, since, from);
    if (replay.recovered === true) {
      this.stats.recovered++;
    } else if (replay.recovered === false) {
      this.stats.notRecovered++;
    }
    return replay;
  }

  /**
   * What to send again: every frame after `since` when the history still has them all
   * under the same epoch (recovered), else nothing (not recovered); without `since`,
   * the frames after `from` (a snapshot's position, or where the channel stood when the
   * listen began), which reach the client after the listen method's frame.
   */
  private async plan(channel: string, since: StreamPosition | undefined, from: StreamPosition | undefined): Promise<Replay> {
    const origin = since ?? from;
    if (!origin) {
      return { messages: [], recovered: since && false };
    }
    let page;
    try {
      page = await this.push.history(channel, { since: origin.offset });
    } catch {
      return { messages: [], position: from, recovered: since && false };
    }
    const { position, messages } = page;
    const gap = position.offset - origin.offset;
    const covered = position.epoch === origin.epoch && gap >= 0 && messages.length === gap && (gap === 0 || messages[0].offset === origin.offset + 1);
    if (!since) {
      return { messages: position.epoch === origin.epoch ? messages : [], position };
    }
    return covered
      ? { messages, position, recovered: true, missed: gap }
      : { messages: [], position, recovered: false, ...(position.epoch === since.epoch && gap >= 0 && { missed: gap }) };
  }

  /** Sends the frames of a replay, each with its position, at the pace the client reads them. */
  private async resend(session: Session, channel: string, handler: ChannelHandler, replay: Replay | undefined): Promise<void> {
    const epoch = replay?.position?.epoch;
    for (const { offset, message } of epoch === undefined ? [] : (replay?.messages ?? [])) {
      if (!(await session.writable())) {
        return;
      }
      const position = { epoch: epoch as string, offset };
      session.sendPositioned(channel, position, positionEvent(channel, position), message, handler.settings.slowConsumer);
    }
  }

  /**
   * Ends a listen or recover: the session listens as a tracker, is answered (with the
   * details as they are once it has joined), and gets what waited meanwhile, but for the
   * frames the answer's position covers already.
   */
  private complete(pending: PendingListen, subject: NoticeSubject, details: () => AnswerDetails): void {
    const { session } = pending;
    if (!this.sessions.finish(pending, true)) {
      return;
    }
    const answer = details();
    session.notify(subject, undefined, answer);
    const { position } = answer;
    for (const operation of pending.take()) {
      const covered = operation.kind === 'channel' && position && operation.position?.epoch === position.epoch && operation.position.offset <= position.offset;
      if (!covered) {
        this.sessions.deliver(session, operation, true);
      }
    }
  }

  private async members(channel: string): Promise<PresenceMember[] | undefined> {
    try {
      return await this.push.presence(channel);
    } catch {
      return undefined;
    }
  }

  /** The members read before the session joined, with the session itself as it joined. */
  private withSelf(members: readonly PresenceMember[], session: Session, channel: string): PresenceMember[] {
    const self = this.presence.memberOf(channel, session.id);
    return [...members.filter((member) => member.sessionId !== session.id), ...(self ? [self] : [])];
  }

  /** Runs the leave method of the channel a session left, if its declaration has one. */
  private runLeave(session: Session, channel: string, reason: LeaveReason): void {
    const match = this.handlers.channels.match(channel);
    const leave = match?.target.leave;
    if (!leave) {
      return;
    }
    let running = this.leaving.get(session);
    if (!running) {
      running = new Set();
      this.leaving.set(session, running);
    }
    const run: Promise<unknown> = Promise.resolve(this.runner.run(session, leave, { channel, params: match.params, reason }, 'leave')).finally(() => {
      running.delete(run);
      if (running.size === 0 && this.leaving.get(session) === running) {
        this.leaving.delete(session);
      }
    });
    running.add(run);
  }
}
