import type { Message } from '../protocol/message.js';
import type { StreamPosition } from '../protocol/rules.js';

/**
 * What a `@ListenChannel` method of a channel with history may return: its first frame
 * for the new listener, built from the channel's state at `position` (say, the page
 * `PushService.history` returned). The listener then gets every frame pushed after that
 * position, in order, with no gap and none twice. A method that returns a plain
 * `Message` instead has the stream go on from where the channel stood when it was called.
 */
export class ChannelSnapshot {
  constructor(
    /** The first frame the listener gets. */
    readonly message: Message,
    /** The position of the channel's history that `message` reflects. */
    readonly position: StreamPosition,
  ) {}
}
