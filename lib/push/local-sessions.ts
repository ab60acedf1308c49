import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Session } from '../endpoint/session.js';
import { withCode } from '../protocol/errors.js';
import { positionEvent, presenceEvent } from '../protocol/server-events.js';
import type { Broker, PushOperation } from './broker.interface.js';
import { type ChannelOperation, PendingListen } from './pending-listen.js';
import { CHANNEL_SETTINGS, type ChannelSettings, type ChannelSettingsSource, EASY_WS_BROKER } from './push.constants.js';
import { PushStats } from './push-stats.js';
import { type LeaveReason, SessionEvents } from './session-events.js';
import { type ChannelListeners, SessionRegistry } from './session-registry.js';

/**
 * The local listeners of one channel (the set itself), the settings its declaration
 * chose, those listeners that asked for the events of acknowledged mode (positions,
 * presence), and the listens still in progress, whose operations wait in a buffer.
 * The last two are made only when needed: most channels never have either.
 */
class ChannelEntry extends Set<Session> {
  trackers: Set<Session> | undefined;
  pending: Map<Session, PendingListen> | undefined;

  constructor(readonly settings: ChannelSettings | undefined) {
    super();
  }

  get isEmpty(): boolean {
    return this.size === 0 && this.pending === undefined;
  }
}

/**
 * The sessions of this instance and the channels they listen to: the session registry,
 * with the engine's side that applications do not see.
 *
 * It is the only place that changes channel membership; it tells the broker when a
 * channel gains its first or loses its last local listener (and likewise for sessions
 * and users), tells `SessionEvents` who joined and left, and is the sink through which
 * the broker carries out push operations here (it starts the broker on module init for
 * that). Nothing of a session stays here after `remove`.
 */
@Injectable()
export class LocalSessions extends SessionRegistry implements OnModuleInit {
  private readonly sessions = new Map<string, Session>();
  private readonly users = new Map<string, Set<Session>>();
  private readonly channels = new Map<string, ChannelEntry>();
  /** The listens in progress of each session, so that a closing session abandons them. */
  private readonly pendingOf = new Map<Session, Set<PendingListen>>();
  /** How many channels have at least one listener here (an entry may be only a listen in progress). */
  private listened = 0;
  /** How many listeners all channels have together. */
  private listenings = 0;

  constructor(
    @Inject(EASY_WS_BROKER) private readonly broker: Broker,
    @Inject(CHANNEL_SETTINGS) private readonly channelSettings: ChannelSettingsSource,
    private readonly events: SessionEvents,
    private readonly stats: PushStats,
  ) {
    super();
  }

  async onModuleInit(): Promise<void> {
    await this.broker.start((operation) => this.apply(operation));
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  get channelCount(): number {
    return this.listened;
  }

  get listenerCount(): number {
    return this.listenings;
  }

  get(sessionId: string): Session | undefined {
    return this.sessions.get(sessionId);
  }

  listeners(channel: string): ReadonlySet<Session> {
    return this.channels.get(channel) ?? EMPTY;
  }

  busiestChannels(limit = 10): ChannelListeners[] {
    if (!Number.isInteger(limit) || limit < 1) {
      throw withCode(new TypeError(`busiestChannels: the limit is a whole number of at least 1, got ${String(limit)}`), 'EASY_WS_INVALID_ARGUMENT');
    }
    // The top `limit`, kept sorted while the channels are read once: an operator's question must not sort every channel.
    const top: ChannelListeners[] = [];
    for (const [channel, entry] of this.channels) {
      const listeners = entry.size;
      if (listeners === 0 || (top.length === limit && listeners <= top[limit - 1].listeners)) {
        continue;
      }
      let at = top.length;
      while (at > 0 && top[at - 1].listeners < listeners) {
        at--;
      }
      top.splice(at, 0, { channel, listeners });
      if (top.length > limit) {
        top.pop();
      }
    }
    return top;
  }

  /** The settings of `channel`, from the entry when it is open here, else from its declaration. */
  settingsOf(channel: string): ChannelSettings | undefined {
    const entry = this.channels.get(channel);
    return entry ? entry.settings : this.channelSettings.settingsOf(channel);
  }

  add(session: Session): void {
    this.sessions.set(session.id, session);
    this.broker.sessionOpened(session.id);
    const { userId } = session;
    if (userId !== undefined) {
      const sessions = this.users.get(userId);
      if (sessions) {
        sessions.add(session);
      } else {
        this.users.set(userId, new Set([session]));
        this.broker.userOpened?.(userId);
      }
    }
  }

  /** Forgets the session: it leaves every channel, and its listens in progress are abandoned. */
  remove(session: Session): void {
    for (const pending of this.pendingOf.get(session) ?? []) {
      this.abandon(pending);
    }
    for (const channel of session.channels) {
      this.leave(session, channel, 'disconnect');
    }
    if (!this.sessions.delete(session.id)) {
      return;
    }
    this.broker.sessionClosed(session.id);
    const { userId } = session;
    const sessions = userId === undefined ? undefined : this.users.get(userId);
    if (sessions?.delete(session) && sessions.size === 0) {
      this.users.delete(userId as string);
      this.broker.userClosed?.(userId as string);
    }
  }

  /**
   * Makes the session listen to `channel` at once (a `listen: ` frame, or the server's
   * own `subscribe`). Returns false when it listens already.
   */
  subscribe(session: Session, channel: string): boolean {
    if (session.channels.has(channel)) {
      return false;
    }
    this.join(session, channel, this.open(channel), false);
    return true;
  }

  /**
   * Starts a listen that completes later (`finish`): until then, what is pushed to
   * `channel` waits in the returned buffer for this session, so that the listen can
   * send first what must come first (the listen method's frame, missed frames, the
   * answer) and nothing is lost or sent twice. For a session that listens already,
   * it holds back its live frames while it recovers what it missed.
   */
  begin(session: Session, channel: string): PendingListen {
    const entry = this.open(channel);
    const pending = new PendingListen(session, channel);
    (entry.pending ??= new Map()).set(session, pending);
    let ofSession = this.pendingOf.get(session);
    if (!ofSession) {
      ofSession = new Set();
      this.pendingOf.set(session, ofSession);
    }
    ofSession.add(pending);
    return pending;
  }

  /**
   * Completes a listen begun with `begin`: the session listens (and, with `track`,
   * gets the events of acknowledged mode), and its pushes go to it directly again.
   * Returns false when the listen was abandoned meanwhile (the session closed).
   */
  finish(pending: PendingListen, track: boolean): boolean {
    if (!this.release(pending)) {
      return false;
    }
    const { session, channel } = pending;
    const entry = this.open(channel);
    if (!session.channels.has(channel)) {
      this.join(session, channel, entry, track);
    } else if (track) {
      (entry.trackers ??= new Set()).add(session);
    }
    return true;
  }

  /** Gives a listen up: nothing of it stays, and the session keeps what it had. */
  abandon(pending: PendingListen): void {
    if (this.release(pending)) {
      this.closeIfEmpty(pending.channel);
    }
  }

  /** Stops the session listening to `channel`; returns false when it did not listen. */
  unsubscribe(session: Session, channel: string, reason: LeaveReason): boolean {
    if (!session.channels.has(channel)) {
      return false;
    }
    this.leave(session, channel, reason);
    return true;
  }

  /** Settles once pushes from every instance reach the listeners of `channel` here. */
  channelReady(channel: string): Promise<void> {
    return this.broker.channelReady?.(channel) ?? Promise.resolve();
  }

  /** Settles once pushes from every instance reach the session. */
  sessionReady(session: Session): Promise<void> {
    return this.broker.sessionReady?.(session.id) ?? Promise.resolve();
  }

  /** Sends one channel operation to one listener, as its subscription asks: with the frame's position to a tracker. */
  deliver(session: Session, operation: ChannelOperation, tracked: boolean): void {
    const settings = this.settingsOf(operation.channel);
    if (operation.kind === 'presence') {
      if (tracked) {
        session.send(presenceEvent(operation.channel, operation.joins, operation.leaves));
      }
      return;
    }
    this.stats.deliveries++;
    if (tracked && operation.position) {
      session.sendPositioned(operation.channel, operation.position, positionEvent(operation.channel, operation.position), operation.message, settings?.slowConsumer);
    } else {
      session.send(operation.message, settings?.slowConsumer);
    }
  }

  /** Carries out a push operation on the sessions of this instance: the broker's sink. */
  apply(operation: PushOperation): void {
    switch (operation.kind) {
      case 'channel':
        return this.toChannel(operation);
      case 'presence':
        return this.toTrackers(operation);
      case 'broadcast':
        this.stats.deliveries += this.sessions.size;
        for (const session of this.sessions.values()) {
          session.send(operation.message);
        }
        return;
      case 'session': {
        const session = this.sessions.get(operation.sessionId);
        if (session) {
          this.stats.deliveries++;
          session.send(operation.message);
        }
        return;
      }
      case 'user': {
        const sessions = this.users.get(operation.userId);
        if (sessions) {
          this.stats.deliveries += sessions.size;
          sessions.forEach((session) => session.send(operation.message));
        }
        return;
      }
      case 'subscribe': {
        const session = this.sessions.get(operation.sessionId);
        if (session) {
          this.subscribe(session, operation.channel);
        }
        return;
      }
      case 'unsubscribe': {
        const session = this.sessions.get(operation.sessionId);
        if (session) {
          this.unsubscribe(session, operation.channel, 'unsubscribe');
        }
        return;
      }
      case 'disconnect':
        this.sessions.get(operation.sessionId)?.close(operation.code, operation.reason);
        return;
      case 'disconnectUser':
        this.users.get(operation.userId)?.forEach((session) => session.close(operation.code, operation.reason));
        return;
      case 'recheck': {
        const session = this.sessions.get(operation.sessionId);
        if (session) {
          this.events.emit('recheck', session);
        }
        return;
      }
      case 'recheckUser':
        this.users.get(operation.userId)?.forEach((session) => this.events.emit('recheck', session));
        return;
    }
  }

  /**
   * The fan-out: the same bytes to every local listener. A frame kept in history goes
   * to trackers with its position, one notice encoded once for all of them.
   */
  private toChannel(operation: Extract<PushOperation, { kind: 'channel' }>): void {
    const entry = this.channels.get(operation.channel);
    if (!entry) {
      return;
    }
    const { message } = operation;
    const slowConsumer = entry.settings?.slowConsumer;
    const { pending, trackers } = entry;
    if (pending === undefined && (operation.position === undefined || trackers === undefined)) {
      this.stats.deliveries += entry.size;
      for (const session of entry) {
        session.send(message, slowConsumer);
      }
      return;
    }
    pending?.forEach((listen) => listen.hold(operation));
    if (operation.position === undefined || trackers === undefined) {
      for (const session of entry) {
        if (!pending?.has(session)) {
          this.stats.deliveries++;
          session.send(message, slowConsumer);
        }
      }
      return;
    }
    const position = positionEvent(operation.channel, operation.position);
    for (const session of entry) {
      if (pending?.has(session)) {
        continue;
      }
      this.stats.deliveries++;
      if (trackers.has(session)) {
        session.sendPositioned(operation.channel, operation.position, position, message, slowConsumer);
      } else {
        session.send(message, slowConsumer);
      }
    }
  }

  /** A presence announcement goes to the listeners that asked for such events only. */
  private toTrackers(operation: Extract<PushOperation, { kind: 'presence' }>): void {
    const entry = this.channels.get(operation.channel);
    if (!entry) {
      return;
    }
    entry.pending?.forEach((listen) => listen.hold(operation));
    if (!entry.trackers) {
      return;
    }
    const event = presenceEvent(operation.channel, operation.joins, operation.leaves);
    for (const session of entry.trackers) {
      if (!entry.pending?.has(session)) {
        session.send(event);
      }
    }
  }

  /** The entry of `channel`, made (and the broker told) when it has none. */
  private open(channel: string): ChannelEntry {
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = new ChannelEntry(this.channelSettings.settingsOf(channel));
      this.channels.set(channel, entry);
      this.broker.channelOpened(channel);
    }
    return entry;
  }

  private closeIfEmpty(channel: string): void {
    if (this.channels.get(channel)?.isEmpty) {
      this.channels.delete(channel);
      this.broker.channelClosed(channel);
    }
  }

  private join(session: Session, channel: string, entry: ChannelEntry, track: boolean): void {
    session.listening.add(channel);
    if (entry.size === 0) {
      this.listened++;
    }
    entry.add(session);
    this.listenings++;
    if (track) {
      (entry.trackers ??= new Set()).add(session);
    }
    this.events.emit('joined', session, channel);
  }

  private leave(session: Session, channel: string, reason: LeaveReason): void {
    session.listening.delete(channel);
    const entry = this.channels.get(channel);
    if (entry?.delete(session)) {
      this.listenings--;
      if (entry.size === 0) {
        this.listened--;
      }
      if (entry.trackers?.delete(session) && entry.trackers.size === 0) {
        entry.trackers = undefined;
      }
      this.closeIfEmpty(channel);
      this.events.emit('left', session, channel, reason);
    }
  }

  /** Takes a pending listen out of the books; false when it was out already. */
  private release(pending: PendingListen): boolean {
    const entry = this.channels.get(pending.channel);
    if (!entry?.pending?.delete(pending.session)) {
      return false;
    }
    if (entry.pending.size === 0) {
      entry.pending = undefined;
    }
    const ofSession = this.pendingOf.get(pending.session);
    if (ofSession?.delete(pending) && ofSession.size === 0) {
      this.pendingOf.delete(pending.session);
    }
    return true;
  }
}

const EMPTY: ReadonlySet<Session> = new Set();
