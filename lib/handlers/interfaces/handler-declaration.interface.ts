import type { SlowConsumerPolicy } from '../../endpoint/interfaces/endpoint-options.interface.js';
import type { ChannelDocumentation, HandlerDocumentation } from './handler-documentation.interface.js';

/** Options of `@ListenChannel`: how the channel behaves, and what the AsyncAPI document says of it. */
export interface ListenChannelOptions extends ChannelDocumentation {
  /**
   * What to do when a listener of this channel is too slow to take its frames:
   * `'drop'` suits a price ticker (the next price replaces a lost one), `'close'`
   * suits a chat (a gap would mislead). Default: the module's `slowConsumer` option.
   */
  readonly slowConsumer?: SlowConsumerPolicy;
}

/** What a decorated method declares; one declaration per method. */
export type HandlerDeclaration =
  | ({ readonly kind: 'command'; readonly command: string } & HandlerDocumentation)
  | ({ readonly kind: 'channel'; readonly pattern: string } & ListenChannelOptions)
  | ({ readonly kind: 'open' } & HandlerDocumentation)
  | { readonly kind: 'close' };

/** The payload a `@ListenChannel` method receives: `switchToWs().getData()` and `@MessageBody()`. */
export interface ChannelRequest {
  /** The channel name the client asked for. */
  readonly channel: string;
  /** The values of the pattern's `:params`, by name. */
  readonly params: Readonly<Record<string, string>>;
}
