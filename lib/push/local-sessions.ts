import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Session } from '../endpoint/session.js';
import type { Broker, PushOperation } from './broker.interface.js';
import { CHANNEL_SETTINGS, type ChannelSettings, type ChannelSettingsSource, EASY_WS_BROKER } from './push.constants.js';
import { SessionRegistry } from './session-registry.js';

/** The local listeners of one channel, and the settings its declaration chose. */
class ChannelListeners extends Set<Session> {
  constructor(
    first: Session,
    readonly settings: ChannelSettings | undefined,
  ) {
    super([first]);
  }
}

/**
 * The sessions of this instance and the channels they listen to: the session registry,
 * with the engine's side that applications do not see.
 *
 * It is the only place that changes channel membership, it tells the broker when a
 * channel gains its first or loses its last local listener, and it is the sink through
 * which the broker carries out push operations here (it starts the broker on module
 * init for that). Nothing of a session stays here after `remove`.
 */
@Injectable()
export class LocalSessions extends SessionRegistry implements OnModuleInit {
  private readonly sessions = new Map<string, Session>();
  private readonly channels = new Map<string, ChannelListeners>();

  constructor(
    @Inject(EASY_WS_BROKER) private readonly broker: Broker,
    @Inject(CHANNEL_SETTINGS) private readonly channelSettings: ChannelSettingsSource,
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
    return this.channels.size;
  }

  get(sessionId: string): Session | undefined {
    return this.sessions.get(sessionId);
  }

  listeners(channel: string): ReadonlySet<Session> {
    return this.channels.get(channel) ?? EMPTY;
  }

  add(session: Session): void {
    this.sessions.set(session.id, session);
    this.broker.sessionOpened(session.id);
  }

  /** Forgets the session and takes it out of every channel. */
  remove(session: Session): void {
    for (const channel of session.channels) {
      this.leave(session, channel);
    }
    if (this.sessions.delete(session.id)) {
      this.broker.sessionClosed(session.id);
    }
  }

  /** Returns false when the session already listens. */
  subscribe(session: Session, channel: string): boolean {
    if (session.channels.has(channel)) {
      return false;
    }
    session.listening.add(channel);
    const listeners = this.channels.get(channel);
    if (listeners) {
      listeners.add(session);
    } else {
      this.channels.set(channel, new ChannelListeners(session, this.channelSettings.settingsOf(channel)));
      this.broker.channelOpened(channel);
    }
    return true;
  }

  /** Returns false when the session did not listen. */
  unsubscribe(session: Session, channel: string): boolean {
    if (!session.channels.has(channel)) {
      return false;
    }
    this.leave(session, channel);
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

  /** Carries out a push operation on the sessions of this instance: the broker's sink. */
  apply(operation: PushOperation): void {
    switch (operation.kind) {
      case 'channel': {
        const listeners = this.channels.get(operation.channel);
        if (listeners) {
          const slowConsumer = listeners.settings?.slowConsumer;
          for (const session of listeners) {
            session.send(operation.message, slowConsumer);
          }
        }
        return;
      }
      case 'broadcast':
        for (const session of this.sessions.values()) {
          session.send(operation.message);
        }
        return;
      case 'session':
        this.sessions.get(operation.sessionId)?.send(operation.message);
        return;
      case 'subscribe':
      case 'unsubscribe': {
        const session = this.sessions.get(operation.sessionId);
        if (session) {
          this[operation.kind](session, operation.channel);
        }
        return;
      }
      case 'disconnect':
        this.sessions.get(operation.sessionId)?.close(operation.code, operation.reason);
        return;
    }
  }

  private leave(session: Session, channel: string): void {
    session.listening.delete(channel);
    const listeners = this.channels.get(channel);
    if (listeners?.delete(session) && listeners.size === 0) {
      this.channels.delete(channel);
      this.broker.channelClosed(channel);
    }
  }
}

const EMPTY: ReadonlySet<Session> = new Set();
