import { MAX_CHANNEL_BYTES, type ControlRequest, type StreamPosition } from './rules.js';

/** The longest epoch a client may send back; the server's own are far shorter. */
const MAX_EPOCH_LENGTH = 64;

/** The longest token a refresh may carry, in UTF-16 units: far more than any JWT. */
const MAX_TOKEN_LENGTH = 16 * 1024;

/**
 * Reads the data of a `websocket: <JSON>` frame from a client of acknowledged mode.
 * Returns the request, or `undefined` when it is not one the protocol defines
 * (not JSON, an unknown `op`, a field missing or out of bounds). Never throws.
 */
export function parseControlRequest(data: string): ControlRequest | undefined {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) {
    return undefined;
  }
  const request = value as Record<string, unknown>;
  switch (request.op) {
    case 'listen': {
      const since = request.since === undefined ? undefined : position(request.since);
      return isChannel(request.channel) && since !== null ? { op: 'listen', channel: request.channel, ...(since && { since }) } : undefined;
    }
    case 'recover': {
      const since = position(request.since);
      return isChannel(request.channel) && since ? { op: 'recover', channel: request.channel, since } : undefined;
    }
    case 'presence':
      return isChannel(request.channel) ? { op: 'presence', channel: request.channel } : undefined;
    case 'refresh':
      return typeof request.token === 'string' && request.token.length > 0 && request.token.length <= MAX_TOKEN_LENGTH
        ? { op: 'refresh', token: request.token }
        : undefined;
    default:
      return undefined;
  }
}

function isChannel(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && Buffer.byteLength(value) <= MAX_CHANNEL_BYTES;
}

/** The position in `value`, or `null` when it is not one. */
function position(value: unknown): StreamPosition | null {
  if (typeof value !== 'object' || value === null) {
    return null;
  }
  const { epoch, offset } = value as Record<string, unknown>;
  return typeof epoch === 'string' && epoch.length <= MAX_EPOCH_LENGTH && Number.isSafeInteger(offset) && (offset as number) >= 0
    ? { epoch, offset: offset as number }
    : null;
}
