import type { SlowConsumerPolicy } from '../../endpoint/interfaces/endpoint-options.interface.js';

/** Options of `@ListenChannel`. */
export interface ListenChannelOptions {
  /**
   * What to do when a listener of this channel is too slow to take its frames:
   * `'drop'` suits a price ticker (the next price replaces a lost one), `'close'`
   * suits a chat (a gap would mislead). Default: the module's `slowConsumer` option.
   */
  readonly slowConsumer?: SlowConsumerPolicy;
}

/** What a decorated method declares; one declaration per method. */
export type HandlerDeclaration =
  | { readonly kind: 'command'; readonly command: string }
  | ({ readonly kind: 'channel'; readonly pattern: string } & ListenChannelOptions)
  | { readonly kind: 'open' }
  | { readonly kind: 'close' };

/** The payload a `@ListenChannel` method receives: `switchToWs().getData()` and `@MessageBody()`. */
export interface ChannelRequest {
  /** The channel name the client asked for. */
  readonly channel: string;
  /** The values of the pattern's `:params`, by name. */
  readonly params: Readonly<Record<string, string>>;
}
