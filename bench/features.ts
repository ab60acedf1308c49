/**
 * The features whose price the bench reports: the same pushes with the feature on, next
 * to plain ones, in-process (`npm run bench`) and through Redis (`cross-instance.ts`).
 * A feature is the module options and channel options that turn it on, passed to the
 * bench servers as JSON; pricing another one is adding its entry here.
 */
export interface PricedFeature {
  readonly label: string;
  /** For `EasyWsModule.forRoot()`. */
  readonly moduleOptions?: Readonly<Record<string, unknown>>;
  /** For the bench channel's `@ListenChannel()`. */
  readonly channelOptions?: Readonly<Record<string, unknown>>;
}

export const PRICED_FEATURES: readonly PricedFeature[] = [
  { label: "slowConsumer: 'drop' on the channel", channelOptions: { slowConsumer: 'drop' } },
  { label: 'history on the channel (size 100, ttl 10 min)', channelOptions: { history: { size: 100, ttl: 600_000 } } },
  { label: 'presence on the channel', channelOptions: { presence: true } },
];
