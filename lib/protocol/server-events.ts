import type { Message } from './message.js';
import { noticeMessage } from './notices.js';
import type { PresenceMember, ServerEvent, StreamPosition } from './rules.js';

/**
 * The notices the server sends of its own accord in acknowledged mode, each encoded
 * once, however many sessions receive it. Only sessions that asked for them (by
 * listening with a `websocket: {"op":"listen",…}` request) get any.
 */

function event(value: ServerEvent): Message {
  return noticeMessage(JSON.stringify(value));
}

/** Tells where the frame that follows stands in `channel`'s history. */
export function positionEvent(channel: string, { epoch, offset }: StreamPosition): Message {
  return event({ event: 'position', channel, epoch, offset });
}

/** Tells the client that frames of `channel` were dropped for it (it read too slowly), the last one at `position`. */
export function droppedEvent(channel: string, { epoch, offset }: StreamPosition): Message {
  return event({ event: 'dropped', channel, epoch, offset });
}

/** Tells who joined and who left `channel` since the last such event. */
export function presenceEvent(channel: string, joins: readonly PresenceMember[], leaves: readonly PresenceMember[]): Message {
  return event({ event: 'presence', channel, joins, leaves });
}

/** Tells the client its token expires at `expiresAt` (milliseconds since the epoch) unless it refreshes it. */
export function expiringEvent(expiresAt: number): Message {
  return event({ event: 'expiring', expiresAt });
}

/** Tells the client it no longer listens to `channel`, and why. */
export function leftEvent(channel: string, reason: string): Message {
  return event({ event: 'left', channel, reason });
}
