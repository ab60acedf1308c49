import type { PushOperation } from '../broker.interface.js';
import { Message } from '../../protocol/message.js';

/**
 * The bytes a `RedisBroker` publishes: a fixed header, then the finished frame (or,
 * for session control, its few fields). The target (channel, session) is the Redis
 * channel itself, so it is not repeated here, and the frame is never re-encoded.
 *
 * ```
 * 0       format version (1)
 * 1..16   origin: the publishing broker's id, so it can ignore its own echo
 * 17      kind (KIND_CODES)
 * 18      flags: bit 0 binary frame, bit 1 a disconnect with a close code
 * 19..    channel, session, broadcast: the frame
 *         subscribe, unsubscribe: the app channel, UTF-8
 *         disconnect: close code (uint16 BE, 0 when none), then the reason, UTF-8
 * ```
 */
const FORMAT_VERSION = 1;

/** The length of a broker's id. */
export const ORIGIN_BYTES = 16;

const KIND_OFFSET = 1 + ORIGIN_BYTES;
const FLAGS_OFFSET = KIND_OFFSET + 1;
const BODY_OFFSET = FLAGS_OFFSET + 1;
const BINARY_FRAME = 0b01;
const HAS_CLOSE_CODE = 0b10;

const KIND_CODES = { channel: 0, session: 1, broadcast: 2, subscribe: 3, unsubscribe: 4, disconnect: 5 } as const;
const KINDS = Object.keys(KIND_CODES) as Array<PushOperation['kind']>;

/** What a Redis channel carries, and for whom; the broker keeps one per channel it subscribes. */
export type Route = { readonly kind: 'channel'; readonly channel: string } | { readonly kind: 'session'; readonly sessionId: string } | { readonly kind: 'broadcast' };

/** Encodes `operation` for other instances, with one copy of its frame. */
export function encodePayload(origin: Buffer, operation: PushOperation): Buffer {
  let flags = 0;
  let body: Buffer;
  switch (operation.kind) {
    case 'channel':
    case 'session':
    case 'broadcast':
      flags = operation.message.binary ? BINARY_FRAME : 0;
      body = operation.message.frame;
      break;
    case 'subscribe':
    case 'unsubscribe':
      body = Buffer.from(operation.channel);
      break;
    case 'disconnect': {
      const reason = Buffer.from(operation.reason ?? '');
      body = Buffer.allocUnsafe(2 + reason.length);
      body.writeUInt16BE(operation.code ?? 0, 0);
      reason.copy(body, 2);
      flags = operation.code === undefined ? 0 : HAS_CLOSE_CODE;
      break;
    }
  }
  const payload = Buffer.allocUnsafe(BODY_OFFSET + body.length);
  payload[0] = FORMAT_VERSION;
  origin.copy(payload, 1);
  payload[KIND_OFFSET] = KIND_CODES[operation.kind];
  payload[FLAGS_OFFSET] = flags;
  body.copy(payload, BODY_OFFSET);
  return payload;
}

/** Whether `payload` was published by the broker with this id. */
export function isFrom(payload: Buffer, origin: Buffer): boolean {
  return payload.length >= BODY_OFFSET && origin.compare(payload, 1, KIND_OFFSET) === 0;
}

/**
 * Decodes a payload that arrived on the Redis channel of `route`; `undefined` when it
 * is not one this format describes or does not belong on that channel.
 */
export function decodePayload(payload: Buffer, route: Route): PushOperation | undefined {
  if (payload.length < BODY_OFFSET || payload[0] !== FORMAT_VERSION) {
    return undefined;
  }
  const kind = KINDS[payload[KIND_OFFSET]];
  const flags = payload[FLAGS_OFFSET];
  const body = payload.subarray(BODY_OFFSET);
  if (route.kind === 'session') {
    const { sessionId } = route;
    switch (kind) {
      case 'session':
        return { kind, sessionId, message: Message.fromFrame(body, (flags & BINARY_FRAME) !== 0) };
      case 'subscribe':
      case 'unsubscribe':
        return body.length > 0 ? { kind, sessionId, channel: body.toString() } : undefined;
      case 'disconnect':
        return body.length >= 2 ? decodeDisconnect(sessionId, body, flags) : undefined;
      default:
        return undefined;
    }
  }
  if (kind !== route.kind) {
    return undefined;
  }
  const message = Message.fromFrame(body, (flags & BINARY_FRAME) !== 0);
  return route.kind === 'channel' ? { kind: 'channel', channel: route.channel, message } : { kind: 'broadcast', message };
}

function decodeDisconnect(sessionId: string, body: Buffer, flags: number): PushOperation {
  const reason = body.toString('utf8', 2);
  return {
    kind: 'disconnect',
    sessionId,
    code: (flags & HAS_CLOSE_CODE) !== 0 ? body.readUInt16BE(0) : undefined,
    reason: reason.length > 0 ? reason : undefined,
  };
}
