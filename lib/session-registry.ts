import { Inject, Injectable } from '@nestjs/common';
import { EASY_WS_OPTIONS } from './constants.js';
import type { EasyWsSession } from './easy-ws-session.js';
import type { Broker, PushOperation } from './interfaces/broker.interface.js';
import type { SlowConsumerPolicy } from './interfaces/easy-ws-options.interface.js';
import type { ResolvedEasyWsOptions } from './options.js';

/** The local listeners of one channel, and the slow-consumer policy its declaration chose. */
class ChannelListeners extends Set<EasyWsSession> {
  constructor(
    first: EasyWsSession,
    readonly slowConsumer: SlowConsumerPolicy | undefined,
  ) {
    super([first]);
  }
}

/**
 * The sessions of this instance and the channels they listen to.
 *
 * It is the only place that changes channel membership, and it tells the broker
 * when a channel gains its first or loses its last local listener. Nothing of a
 * session stays here after `remove`.
 */
@Injectable()
export class SessionRegistry {
  private readonly sessions = new Map<string, EasyWsSession>();
  private readonly channels = new Map<string, ChannelListeners>();
  private readonly broker: Broker;
  private slowConsumerPolicy: (channel: string) => SlowConsumerPolicy | undefined = () => undefined;

  constructor(@Inject(EASY_WS_OPTIONS) options: ResolvedEasyWsOptions) {
    this.broker = options.broker;
  }

  /** How many sessions are open on this instance. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** How many channels have at least one listener on this instance. */
  get channelCount(): number {
    return this.channels.size;
  }

  /** The session with this id, if it is on this instance. */
  get(sessionId: string): EasyWsSession | undefined {
    return this.sessions.get(sessionId);
  }

  /** The sessions of this instance that listen to `channel`. */
  listeners(channel: string): ReadonlySet<EasyWsSession> {
    return this.channels.get(channel) ?? new Set();
  }

  /** @internal Tells the registry which slow-consumer policy each channel's declaration chose. */
  useSlowConsumerPolicies(policyOf: (channel: string) => SlowConsumerPolicy | undefined): void {
    this.slowConsumerPolicy = policyOf;
  }

  /** @internal */
  add(session: EasyWsSession): void {
    this.sessions.set(session.id, session);
    this.broker.sessionOpened(session.id);
  }

  /** @internal Forgets the session and takes it out of every channel. */
  remove(session: EasyWsSession): void {
    for (const channel of session.channels) {
      this.leave(session, channel);
    }
    if (this.sessions.delete(session.id)) {
      this.broker.sessionClosed(session.id);
    }
  }

  /** @internal Returns false when the session already listens. */
  subscribe(session: EasyWsSession, channel: string): boolean {
    if (session.channels.has(channel)) {
      return false;
    }
    session.listening.add(channel);
    const listeners = this.channels.get(channel);
    if (listeners) {
      listeners.add(session);
    } else {
      this.channels.set(channel, new ChannelListeners(session, this.slowConsumerPolicy(channel)));
      this.broker.channelOpened(channel);
    }
    return true;
  }

  /** @internal Returns false when the session did not listen. */
  unsubscribe(session: EasyWsSession, channel: string): boolean {
    if (!session.channels.has(channel)) {
      return false;
    }
    this.leave(session, channel);
    return true;
  }

  /** @internal Settles once pushes from every instance reach the listeners of `channel` here. */
  channelReady(channel: string): Promise<void> {
    return this.broker.channelReady?.(channel) ?? Promise.resolve();
  }

  /** @internal Settles once pushes from every instance reach the session. */
  sessionReady(session: EasyWsSession): Promise<void> {
    return this.broker.sessionReady?.(session.id) ?? Promise.resolve();
  }

  /** @internal Carries out a push operation on the sessions of this instance. */
  apply(operation: PushOperation): void {
    switch (operation.kind) {
      case 'channel': {
        const listeners = this.channels.get(operation.channel);
        for (const session of listeners ?? []) {
          session.send(operation.message, listeners?.slowConsumer);
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

  private leave(session: EasyWsSession, channel: string): void {
    session.listening.delete(channel);
    const listeners = this.channels.get(channel);
    if (listeners?.delete(session) && listeners.size === 0) {
      this.channels.delete(channel);
      this.broker.channelClosed(channel);
    }
  }
}
