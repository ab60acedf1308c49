import { Inject, Injectable } from '@nestjs/common';
import { closeProblem, NORMAL_CLOSURE } from '../protocol/close-codes.js';
import { withCode } from '../protocol/errors.js';
import { Message } from '../protocol/message.js';
import { MAX_CHANNEL_BYTES, RESERVED_COMMANDS } from '../protocol/rules.js';
import type { Broker } from './broker.interface.js';
import { EASY_WS_BROKER } from './push.constants.js';

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
  constructor(@Inject(EASY_WS_BROKER) private readonly broker: Broker) {}

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
    const problem = closeProblem(code, reason);
    if (problem) {
      throw invalidArgument(problem);
    }
    return this.broker.publish({ kind: 'disconnect', sessionId: checkSessionId(sessionId), code, reason });
  }
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
