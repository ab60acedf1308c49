import { Inject, Injectable } from '@nestjs/common';
import { EASY_WS_OPTIONS } from './constants.js';
import { MAX_CLOSE_REASON_BYTES } from './easy-ws-session.js';
import { MAX_CHANNEL_BYTES, RESERVED_COMMANDS } from './frame-codec.js';
import type { Broker } from './interfaces/broker.interface.js';
import { Message } from './message.js';
import type { ResolvedEasyWsOptions } from './options.js';

/**
 * Pushes frames to channels and sessions, and controls sessions, from any provider
 * or controller, on every instance of the application (through the configured
 * broker). Each message is encoded once, however many sessions receive it.
 */
@Injectable()
export class PushService {
  private readonly broker: Broker;

  constructor(@Inject(EASY_WS_OPTIONS) options: ResolvedEasyWsOptions) {
    this.broker = options.broker;
  }

  /** Sends `message` to every session that listens to `channel`, once each. */
  toChannel(channel: string, message: Message): Promise<void> {
    return this.broker.publish({ kind: 'channel', channel: checkChannel(channel), message: checkMessage(message) });
  }

  /** Sends `message` to one session, on whichever instance holds it. */
  toSession(sessionId: string, message: Message): Promise<void> {
    return this.broker.publish({ kind: 'session', sessionId: checkSessionId(sessionId), message: checkMessage(message) });
  }

  /** Sends `message` to every session. */
  broadcast(message: Message): Promise<void> {
    return this.broker.publish({ kind: 'broadcast', message: checkMessage(message) });
  }

  /** Makes a session listen to `channel`, without guards: the server decides. Silent for the client. */
  subscribe(sessionId: string, channel: string): Promise<void> {
    return this.broker.publish({ kind: 'subscribe', sessionId: checkSessionId(sessionId), channel: checkChannel(channel) });
  }

  /** Makes a session stop listening to `channel`. Silent for the client. */
  unsubscribe(sessionId: string, channel: string): Promise<void> {
    return this.broker.publish({ kind: 'unsubscribe', sessionId: checkSessionId(sessionId), channel: checkChannel(channel) });
  }

  /**
   * Closes a session's connection (default code 1000); its close hooks run as usual.
   * @param code 1000 to 1014 but 1004 to 1006, or 3000 to 4999 (RFC 6455).
   * @param reason at most 123 bytes.
   */
  disconnect(sessionId: string, code = NORMAL_CLOSURE, reason?: string): Promise<void> {
    return this.broker.publish({ kind: 'disconnect', sessionId: checkSessionId(sessionId), ...checkClose(code, reason) });
  }
}

const NORMAL_CLOSURE = 1000;

/**
 * Checks here what ws would otherwise reject when it closes the socket, perhaps on
 * another instance, where the caller would never see the error.
 */
function checkClose(code: number, reason: string | undefined): { code: number; reason?: string } {
  const sendable = (code >= 1000 && code <= 1014 && (code < 1004 || code > 1006)) || (code >= 3000 && code <= 4999);
  if (!Number.isInteger(code) || !sendable) {
    throw new TypeError(`PushService: a close code is 1000 to 1014 but 1004 to 1006, or 3000 to 4999, got ${code}`);
  }
  if (reason !== undefined && (typeof reason !== 'string' || Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES)) {
    throw new TypeError(`PushService: a close reason is a string of at most ${MAX_CLOSE_REASON_BYTES} bytes`);
  }
  return { code, reason };
}

function checkMessage(message: Message): Message {
  if (!(message instanceof Message)) {
    throw new TypeError('PushService: pass a Message, e.g. new Message("news", data)');
  }
  if (RESERVED_COMMANDS.has(message.command)) {
    throw new TypeError(`PushService: "${message.command}" frames belong to the protocol; an application cannot push them`);
  }
  return message;
}

function checkChannel(channel: string): string {
  if (typeof channel !== 'string' || channel.length === 0 || Buffer.byteLength(channel) > MAX_CHANNEL_BYTES) {
    throw new TypeError(`PushService: a channel is a string of 1 to ${MAX_CHANNEL_BYTES} bytes, got ${JSON.stringify(channel)}`);
  }
  return channel;
}

function checkSessionId(sessionId: string): string {
  if (typeof sessionId !== 'string' || sessionId.length === 0) {
    throw new TypeError(`PushService: a session id is a non-empty string, got ${JSON.stringify(sessionId)}`);
  }
  return sessionId;
}
