import type { EasyWsSession } from '../../endpoint/easy-ws-session.js';
import type { SlowConsumerPolicy } from '../../endpoint/interfaces/endpoint-options.interface.js';
import type { StreamPosition } from '../../protocol/rules.js';
import type { LeaveReason } from '../../push/session-events.js';
import type { ChannelDocumentation, HandlerDocumentation } from './handler-documentation.interface.js';

/** Options of `@ListenChannel`: how the channel behaves, and what the AsyncAPI document says of it. */
export interface ListenChannelOptions extends ChannelDocumentation {
  /**
   * What to do when a listener of this channel is too slow to take its frames:
   * `'drop'` suits a price ticker (the next price replaces a lost one), `'close'`
   * suits a chat (a gap would mislead). Default: the module's `slowConsumer` option.
   */
  readonly slowConsumer?: SlowConsumerPolicy;
  /**
   * Keeps the last `size` frames pushed to each matching channel for `ttl`
   * milliseconds, each with its offset under the channel's epoch, so that a client of
   * acknowledged mode that lost its connection gets exactly what it missed when it
   * listens again. Default: no history, and pushes cost what they always did.
   */
  readonly history?: { readonly size: number; readonly ttl: number };
  /**
   * Tells who is in each matching channel: `PushService.presence(channel)`, and join
   * and leave events for listeners of acknowledged mode. With `info`, each member
   * carries what it returns for the session when it joins (JSON). Default: off.
   */
  readonly presence?: boolean | { readonly info?: (session: EasyWsSession) => unknown };
}

/** What a decorated method declares; one declaration per method. */
export type HandlerDeclaration =
  | ({ readonly kind: 'command'; readonly command: string } & HandlerDocumentation)
  | ({ readonly kind: 'channel'; readonly pattern: string } & ListenChannelOptions)
  | { readonly kind: 'leave'; readonly pattern: string }
  | ({ readonly kind: 'open' } & HandlerDocumentation)
  | { readonly kind: 'close' };

/** The payload a `@ListenChannel` method receives: `switchToWs().getData()` and `@MessageBody()`. */
export interface ChannelRequest {
  /** The channel name the client asked for. */
  readonly channel: string;
  /** The values of the pattern's `:params`, by name. */
  readonly params: Readonly<Record<string, string>>;
  /**
   * Where the client stands in the channel's history when it listens again after a
   * lost connection; it gets the frames it missed after the method's own frame.
   */
  readonly since?: StreamPosition;
}

/** The payload a `@LeaveChannel` method receives: the channel left, its params, and why. */
export interface ChannelLeave {
  /** The channel the session left. */
  readonly channel: string;
  /** The values of the pattern's `:params`, by name. */
  readonly params: Readonly<Record<string, string>>;
  /** Why the session left: `unlisten`, `unsubscribe` (the server's `PushService.unsubscribe`), `disconnect`, or `denied` (its guard denied it when checked again). */
  readonly reason: LeaveReason;
}
