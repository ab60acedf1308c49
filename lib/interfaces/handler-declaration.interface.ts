/** What a decorated method declares; one declaration per method. */
export type HandlerDeclaration =
  | { readonly kind: 'command'; readonly command: string }
  | { readonly kind: 'channel'; readonly pattern: string }
  | { readonly kind: 'open' }
  | { readonly kind: 'close' };

/** The payload a `@ListenChannel` method receives: `switchToWs().getData()` and `@MessageBody()`. */
export interface ChannelRequest {
  /** The channel name the client asked for. */
  readonly channel: string;
  /** The values of the pattern's `:params`, by name. */
  readonly params: Readonly<Record<string, string>>;
}
