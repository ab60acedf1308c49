import { performance } from 'node:perf_hooks';
import { Inject, Injectable } from '@nestjs/common';
import { closeProblem, NORMAL_CLOSURE } from '../protocol/close-codes.js';
import { withCode } from '../protocol/errors.js';
import { Message } from '../protocol/message.js';
import { MAX_CHANNEL_BYTES, RESERVED_COMMANDS } from '../protocol/rules.js';
import type { PresenceMember } from '../protocol/rules.js';
import type { Broker, HistoryPage, HistoryStore, PresenceStore, PushOperation } from './broker.interface.js';
import { CHANNEL_SETTINGS, type ChannelSettingsSource, EASY_WS_BROKER } from './push.constants.js';
import { PushStats } from './push-stats.js';

/**
 * Pushes frames to channels and sessions, and controls sessions, from any provider
 * or controller, on every instance of the application (through the configured
 * broker). Each message is encoded once, however many sessions receive it.
 *
 * Every method checks its arguments at once and throws a `TypeError` with the code
 * `EASY_WS_INVALID_ARGUMENT` for one that cannot work, rather than failing later on
 * another instance where the caller would never see it.
 */
@Injectable()
export class PushService {
  /** What the application declared about each channel: whether it keeps history, has presence. */
  @Inject(CHANNEL_SETTINGS) private readonly channels!: ChannelSettingsSource;
  @Inject(PushStats) private readonly stats!: PushStats;

  constructor(@Inject(EASY_WS_BROKER) private readonly broker: Broker) {}

  /**
   * Sends `message` to every session that listens to `channel`, once each. When the
   * channel keeps history, the frame is kept with the channel's next offset first.
   */
  toChannel(channel: string, message: Message): Promise<void> {
    checkChannel(channel);
    checkMessage(message);
    const history = this.channels.historyOf(channel);
    if (!history) {
      return this.publish({ kind: 'channel', channel, message });
    }
    this.stats.historyPushes++;
    return this.publish({ kind: 'channel', channel, message, history });
  }

  /** Sends `message` to one session, on whichever instance holds it. */
  toSession(sessionId: string, message: Message): Promise<void> {
    return this.publish({ kind: 'session', sessionId: checkSessionId(sessionId), message: checkMessage(message) });
  }

  /** Sends `message` to every session of the user `userId` (the `sub` its token named), on every instance. */
  toUser(userId: string, message: Message): Promise<void> {
    return this.publish({ kind: 'user', userId: checkUserId(userId), message: checkMessage(message) });
  }

  /** Sends `message` to every session. */
  broadcast(message: Message): Promise<void> {
    return this.publish({ kind: 'broadcast', message: checkMessage(message) });
  }

  /** Makes a session listen to `channel`, without guards: the server decides. Silent for the client. */
  subscribe(sessionId: string, channel: string): Promise<void> {
    return this.publish({ kind: 'subscribe', sessionId: checkSessionId(sessionId), channel: checkChannel(channel) });
  }

  /** Makes a session stop listening to `channel`. Silent for the client. */
  unsubscribe(sessionId: string, channel: string): Promise<void> {
    return this.publish({ kind: 'unsubscribe', sessionId: checkSessionId(sessionId), channel: checkChannel(channel) });
  }

  /**
   * Closes a session's connection (default code 1000); its close hooks run as usual.
   * @param code 1000 to 1014 but 1004 to 1006, or 3000 to 4999 (RFC 6455).
   * @param reason at most 123 bytes.
   */
  disconnect(sessionId: string, code = NORMAL_CLOSURE, reason?: string): Promise<void> {
    checkClose(code, reason);
    return this.publish({ kind: 'disconnect', sessionId: checkSessionId(sessionId), code, reason });
  }

  /** Closes every session of the user `userId`, on every instance, like `disconnect`. */
  disconnectUser(userId: string, code = NORMAL_CLOSURE, reason?: string): Promise<void> {
    checkClose(code, reason);
    return this.publish({ kind: 'disconnectUser', userId: checkUserId(userId), code, reason });
  }

  /**
   * Runs the guards of every channel a session listens to (or every session of a
   * user) again, on whichever instance holds it: after the application took a user
   * out of a room, say. A channel whose guard now denies is left; a client of
   * acknowledged mode is told which.
   */
  recheck(target: { readonly sessionId: string } | { readonly userId: string }): Promise<void> {
    if (typeof target === 'object' && target !== null && 'userId' in target) {
      return this.publish({ kind: 'recheckUser', userId: checkUserId(target.userId) });
    }
    return this.publish({ kind: 'recheck', sessionId: checkSessionId((target as { sessionId: string } | null)?.sessionId as string) });
  }

  /**
   * What the history of `channel` keeps after offset `since` (default: all of it), at
   * most `limit` frames (the latest), and where the channel stands now: for a page of
   * recent messages, or a `ChannelSnapshot` a listen method returns.
   * @throws TypeError (`EASY_WS_INVALID_ARGUMENT`) for a channel that keeps no history.
   * @throws RedisUnavailableError when the history could not be read.
   */
  history(channel: string, query: { readonly since?: number; readonly limit?: number } = {}): Promise<HistoryPage> {
    const settings = this.channels.historyOf(checkChannel(channel));
    if (!settings) {
      throw invalidArgument(`${JSON.stringify(channel)} keeps no history: declare it with @ListenChannel(pattern, { history: { size, ttl } })`);
    }
    const { since, limit } = query;
    if ((since !== undefined && (!Number.isSafeInteger(since) || since < 0)) || (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0))) {
      throw invalidArgument(`"since" and "limit" are whole numbers of at least 0, got ${JSON.stringify(query)}`);
    }
    return (this.broker.history as HistoryStore).read(channel, settings, { since, limit });
  }

  /**
   * The members of the presence channel `channel`, on every instance: one per session,
   * with the `info` the channel computed when it joined.
   * @throws TypeError (`EASY_WS_INVALID_ARGUMENT`) for a channel without presence.
   */
  presence(channel: string): Promise<PresenceMember[]> {
    return this.presenceOf(channel).members(channel);
  }

  /** How many members the presence channel `channel` has, on every instance; cheaper than `presence`. */
  presenceCount(channel: string): Promise<number> {
    return this.presenceOf(channel).count(channel);
  }

  /** Hands `operation` to the broker, timing it when metrics are on. */
  private publish(operation: PushOperation): Promise<void> {
    const durations = this.stats.publishDurations;
    if (!durations) {
      return this.broker.publish(operation);
    }
    const started = performance.now();
    const published = this.broker.publish(operation);
    const record = (): void => durations.record((performance.now() - started) / 1000);
    published.then(record, record);
    return published;
  }

  private presenceOf(channel: string): PresenceStore {
    if (!this.channels.settingsOf(checkChannel(channel))?.presence) {
      throw invalidArgument(`${JSON.stringify(channel)} has no presence: declare it with @ListenChannel(pattern, { presence: true })`);
    }
    return this.broker.presence as PresenceStore;
  }
}

function checkClose(code: number, reason: string | undefined): void {
  const problem = closeProblem(code, reason);
  if (problem) {
    throw invalidArgument(problem);
  }
}

function checkUserId(userId: string): string {
  if (typeof userId !== 'string' || userId.length === 0) {
    throw invalidArgument(`a user id is a non-empty string, got ${JSON.stringify(userId)}`);
  }
  return userId;
}

function invalidArgument(problem: string): TypeError {
  return withCode(new TypeError(`PushService: ${problem}`), 'EASY_WS_INVALID_ARGUMENT');
}

function checkMessage(message: Message): Message {
  if (!(message instanceof Message)) {
    throw invalidArgument('pass a Message, e.g. new Message("news", data)');
  }
  if (RESERVED_COMMANDS.has(message.command)) {
    throw invalidArgument(`"${message.command}" frames belong to the protocol; an application cannot push them`);
  }
  return message;
}

function checkChannel(channel: string): string {
  if (typeof channel !== 'string' || channel.length === 0 || Buffer.byteLength(channel) > MAX_CHANNEL_BYTES) {
    throw invalidArgument(`a channel is a string of 1 to ${MAX_CHANNEL_BYTES} bytes, got ${JSON.stringify(channel)}`);
  }
  return channel;
}

function checkSessionId(sessionId: string): string {
  if (typeof sessionId !== 'string' || sessionId.length === 0) {
    throw invalidArgument(`a session id is a non-empty string, got ${JSON.stringify(sessionId)}`);
  }
  return sessionId;
}
