import type { PushOperation } from '../broker.interface.js';
import { Message } from '../../protocol/message.js';
import type { PresenceMember, StreamPosition } from '../../protocol/rules.js';

/**
 * The bytes a `RedisBroker` publishes: a fixed header, then the finished frame (or,
 * for control, its few fields). The target (channel, session, user) is the Redis
 * channel itself, so it is not repeated here, and the frame is never re-encoded.
 *
 * ```
 * 0       format version (1)
 * 1..16   origin: the publishing broker's id, so it can ignore its own echo
 * 17      kind (KIND_CODES)
 * 18      flags: bit 0 binary frame, bit 1 a disconnect with a close code,
 *         bit 2 a frame with its history position
 * 19..    channel: the frame; with a position, first "<offset> <epoch>\n" in ASCII
 *         session, user, broadcast: the frame
 *         subscribe, unsubscribe: the app channel, UTF-8
 *         disconnect, disconnectUser: close code (uint16 BE, 0 when none), then the reason, UTF-8
 *         recheck, recheckUser: nothing
 *         presence: {"joins":[…],"leaves":[…]} as JSON
 * ```
 */
const FORMAT_VERSION = 1;

/** The length of a broker's id. */
export const ORIGIN_BYTES = 16;

const KIND_OFFSET = 1 + ORIGIN_BYTES;
const FLAGS_OFFSET = KIND_OFFSET + 1;
const BODY_OFFSET = FLAGS_OFFSET + 1;
const BINARY_FRAME = 0b001;
const HAS_CLOSE_CODE = 0b010;
const HAS_POSITION = 0b100;
const NEWLINE = 0x0a;
/** A position prefix is an offset of at most 16 digits, a space, a short epoch and a newline. */
const MAX_POSITION_PREFIX = 96;

const KIND_CODES = {
  channel: 0,
  session: 1,
  broadcast: 2,
  subscribe: 3,
  unsubscribe: 4,
  disconnect: 5,
  user: 6,
  disconnectUser: 7,
  recheck: 8,
  recheckUser: 9,
  presence: 10,
} as const satisfies Record<PushOperation['kind'], number>;
const KINDS = Object.keys(KIND_CODES) as Array<PushOperation['kind']>;

/** What a Redis channel carries, and for whom; the broker keeps one per channel it subscribes. */
export type Route =
  | { readonly kind: 'channel'; readonly channel: string }
  | { readonly kind: 'session'; readonly sessionId: string }
  | { readonly kind: 'user'; readonly userId: string }
  | { readonly kind: 'broadcast' };

/** The kinds of operation each kind of route carries. */
const CARRIED: { readonly [K in Route['kind']]: ReadonlySet<PushOperation['kind']> } = {
  channel: new Set(['channel', 'presence']),
  session: new Set(['session', 'subscribe', 'unsubscribe', 'disconnect', 'recheck']),
  user: new Set(['user', 'disconnectUser', 'recheckUser']),
  broadcast: new Set(['broadcast']),
};

/** The header of a payload: version, origin, kind and flags. */
export function payloadHeader(origin: Buffer, kind: PushOperation['kind'], flags: number): Buffer {
  const header = Buffer.allocUnsafe(BODY_OFFSET);
  header[0] = FORMAT_VERSION;
  origin.copy(header, 1);
  header[KIND_OFFSET] = KIND_CODES[kind];
  header[FLAGS_OFFSET] = flags;
  return header;
}

/** The header of a channel payload whose position is written in after it (by the Redis script that assigns it). */
export function positionedHeader(origin: Buffer, message: Message): Buffer {
  return payloadHeader(origin, 'channel', HAS_POSITION | (message.binary ? BINARY_FRAME : 0));
}

/** Encodes `operation` for other instances, with one copy of its frame. */
export function encodePayload(origin: Buffer, operation: PushOperation): Buffer {
  let flags = 0;
  let body: Buffer;
  switch (operation.kind) {
    case 'channel':
    case 'session':
    case 'user':
    case 'broadcast':
      flags = operation.message.binary ? BINARY_FRAME : 0;
      body = operation.message.frame;
      if (operation.kind === 'channel' && operation.position) {
        flags |= HAS_POSITION;
        body = Buffer.concat([Buffer.from(`${operation.position.offset} ${operation.position.epoch}\n`), body]);
      }
      break;
    case 'subscribe':
    case 'unsubscribe':
      body = Buffer.from(operation.channel);
      break;
    case 'disconnect':
    case 'disconnectUser': {
      const reason = Buffer.from(operation.reason ?? '');
      body = Buffer.allocUnsafe(2 + reason.length);
      body.writeUInt16BE(operation.code ?? 0, 0);
      reason.copy(body, 2);
      flags = operation.code === undefined ? 0 : HAS_CLOSE_CODE;
      break;
    }
    case 'recheck':
    case 'recheckUser':
      body = Buffer.alloc(0);
      break;
    case 'presence':
      body = Buffer.from(JSON.stringify({ joins: operation.joins, leaves: operation.leaves }));
      break;
  }
  return Buffer.concat([payloadHeader(origin, operation.kind, flags), body]);
}

/** Whether `payload` was published by the broker with this id. */
export function isFrom(payload: Buffer, origin: Buffer): boolean {
  return payload.length >= BODY_OFFSET && origin.compare(payload, 1, KIND_OFFSET) === 0;
}

/** Whether `payload` carries a frame with its history position (which even its publisher delivers from the echo). */
export function hasPosition(payload: Buffer): boolean {
  return payload.length > FLAGS_OFFSET && (payload[FLAGS_OFFSET] & HAS_POSITION) !== 0;
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
  if (kind === undefined || !CARRIED[route.kind].has(kind)) {
    return undefined;
  }
  const flags = payload[FLAGS_OFFSET];
  const body = payload.subarray(BODY_OFFSET);
  const message = (frame: Buffer): Message => Message.fromFrame(frame, (flags & BINARY_FRAME) !== 0);
  switch (route.kind) {
    case 'broadcast':
      return { kind: 'broadcast', message: message(body) };
    case 'channel':
      return kind === 'presence' ? decodePresence(route.channel, body) : decodeChannelFrame(route.channel, body, flags, message);
    case 'user': {
      const { userId } = route;
      if (kind === 'user') {
        return { kind, userId, message: message(body) };
      }
      if (kind === 'disconnectUser') {
        return body.length >= 2 ? { kind, userId, ...decodeClose(body, flags) } : undefined;
      }
      return { kind: 'recheckUser', userId };
    }
    case 'session': {
      const { sessionId } = route;
      switch (kind) {
        case 'session':
          return { kind, sessionId, message: message(body) };
        case 'subscribe':
        case 'unsubscribe':
          return body.length > 0 ? { kind, sessionId, channel: body.toString() } : undefined;
        case 'disconnect':
          return body.length >= 2 ? { kind, sessionId, ...decodeClose(body, flags) } : undefined;
        default:
          return { kind: 'recheck', sessionId };
      }
    }
  }
}

function decodeChannelFrame(channel: string, body: Buffer, flags: number, message: (frame: Buffer) => Message): PushOperation | undefined {
  if ((flags & HAS_POSITION) === 0) {
    return { kind: 'channel', channel, message: message(body) };
  }
  const end = body.indexOf(NEWLINE);
  if (end === -1 || end > MAX_POSITION_PREFIX) {
    return undefined;
  }
  const prefix = body.toString('latin1', 0, end);
  const space = prefix.indexOf(' ');
  const offset = Number(prefix.slice(0, space));
  if (space < 1 || !Number.isSafeInteger(offset)) {
    return undefined;
  }
  const position: StreamPosition = { epoch: prefix.slice(space + 1), offset };
  return { kind: 'channel', channel, message: message(body.subarray(end + 1)), position };
}

function decodePresence(channel: string, body: Buffer): PushOperation | undefined {
  try {
    const { joins, leaves } = JSON.parse(body.toString()) as { joins?: unknown; leaves?: unknown };
    return Array.isArray(joins) && Array.isArray(leaves)
      ? { kind: 'presence', channel, joins: joins as PresenceMember[], leaves: leaves as PresenceMember[] }
      : undefined;
  } catch {
    return undefined;
  }
}

function decodeClose(body: Buffer, flags: number): { code?: number; reason?: string } {
  const reason = body.toString('utf8', 2);
  return { code: (flags & HAS_CLOSE_CODE) !== 0 ? body.readUInt16BE(0) : undefined, reason: reason.length > 0 ? reason : undefined };
}
