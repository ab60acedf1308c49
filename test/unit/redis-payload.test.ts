import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Message, type PushOperation } from 'nestjs-easy-ws';
import { decodePayload, encodePayload, isFrom, ORIGIN_BYTES, type Route } from '../../lib/push/redis/redis-payload.js';

const origin = Buffer.alloc(ORIGIN_BYTES, 7);
const other = Buffer.alloc(ORIGIN_BYTES, 8);

/** The route a payload of `operation` arrives on, as the broker subscribes it. */
function routeOf(operation: PushOperation): Route {
  switch (operation.kind) {
    case 'channel':
      return { kind: 'channel', channel: operation.channel };
    case 'broadcast':
      return { kind: 'broadcast' };
    case 'presence':
      return { kind: 'channel', channel: operation.channel };
    case 'user':
    case 'disconnectUser':
    case 'recheckUser':
      return { kind: 'user', userId: operation.userId };
    default:
      return { kind: 'session', sessionId: operation.sessionId };
  }
}

/** What a decoded operation must equal: the message compared by its bytes and type. */
function comparable(operation: PushOperation | undefined): unknown {
  if (operation && 'message' in operation) {
    const { message, ...rest } = operation;
    return { ...rest, frame: message.frame.toString('hex'), binary: message.binary, command: message.command };
  }
  return operation;
}

describe('the bytes a RedisBroker publishes', () => {
  test('carry every kind of push operation to the other instances', () => {
    const operations: PushOperation[] = [
      { kind: 'channel', channel: 'rooms/42', message: new Message('said', { text: 'hi' }) },
      { kind: 'channel', channel: 'bytes', message: new Message('raw', Uint8Array.of(0xff, 0, 0x3a, 0x20)) },
      { kind: 'session', sessionId: 'a-session', message: new Message('direct', 'only you') },
      { kind: 'broadcast', message: new Message('all', '') },
      { kind: 'subscribe', sessionId: 'a-session', channel: 'rooms/é' },
      { kind: 'unsubscribe', sessionId: 'a-session', channel: 'news' },
      { kind: 'disconnect', sessionId: 'a-session', code: 4001, reason: 'bye' },
      { kind: 'disconnect', sessionId: 'a-session', code: undefined, reason: undefined },
      { kind: 'channel', channel: 'rooms/1', message: new Message('said', 'with its place'), position: { epoch: 'e1x', offset: 42 } },
      { kind: 'channel', channel: 'rooms/1', message: new Message('raw', Uint8Array.of(10, 32, 58)), position: { epoch: 'e', offset: 1 } },
      { kind: 'user', userId: 'ada', message: new Message('direct', 'to every session of ada') },
      { kind: 'disconnectUser', userId: 'ada', code: 4001, reason: 'token expired' },
      { kind: 'recheck', sessionId: 'a-session' },
      { kind: 'recheckUser', userId: 'ada' },
      { kind: 'presence', channel: 'rooms/1', joins: [{ sessionId: 's1', info: { user: 'ada' } }], leaves: [{ sessionId: 's2' }] },
    ];
    for (const operation of operations) {
      const payload = encodePayload(origin, operation);
      assert.deepEqual(comparable(decodePayload(payload, routeOf(operation))), comparable(operation), operation.kind);
    }
  });

  test('name their publisher, so it can ignore its own echo', () => {
    const payload = encodePayload(origin, { kind: 'broadcast', message: new Message('all') });
    assert.equal(isFrom(payload, origin), true);
    assert.equal(isFrom(payload, other), false);
    assert.equal(isFrom(Buffer.alloc(5), origin), false, 'too short to be one of ours');
  });

  test('are refused on a channel they do not belong on, or in another format', () => {
    const channelPush = encodePayload(origin, { kind: 'channel', channel: 'news', message: new Message('n') });
    assert.equal(decodePayload(channelPush, { kind: 'broadcast' }), undefined);
    assert.equal(decodePayload(channelPush, { kind: 'session', sessionId: 's' }), undefined);
    const versionTwo = Buffer.from(channelPush);
    versionTwo[0] = 2;
    assert.equal(decodePayload(versionTwo, { kind: 'channel', channel: 'news' }), undefined);
    assert.equal(decodePayload(Buffer.from('not a broker message'), { kind: 'channel', channel: 'news' }), undefined);
    const emptySubscribe = encodePayload(origin, { kind: 'subscribe', sessionId: 's', channel: 'x' }).subarray(0, 19);
    assert.equal(decodePayload(emptySubscribe, { kind: 'session', sessionId: 's' }), undefined);
  });

  test('any frame survives the trip byte for byte', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]{1,20}$/), fc.uint8Array({ maxLength: 300 }), fc.boolean(), (command, data, binary) => {
        const message = new Message(command, binary ? data : Buffer.from(data).toString('latin1'));
        const operation: PushOperation = { kind: 'channel', channel: 'c', message };
        assert.deepEqual(comparable(decodePayload(encodePayload(origin, operation), routeOf(operation))), comparable(operation));
      }),
      { numRuns: 300 },
    );
  });
});
