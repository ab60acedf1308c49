import type { SlowConsumerPolicy } from '../endpoint/interfaces/endpoint-options.interface.js';

/** Injection token of the `Broker` the application configured. */
export const EASY_WS_BROKER = Symbol('EASY_WS_BROKER');

/** Injection token of the `ChannelSettingsSource`: what the application declared about each channel. */
export const CHANNEL_SETTINGS = Symbol('EASY_WS_CHANNEL_SETTINGS');

/** What the application declared about a channel that pushes to it must respect. */
export interface ChannelSettings {
  /** The slow-consumer policy for this channel's pushes; default: the module's. */
  readonly slowConsumer?: SlowConsumerPolicy;
}

/** Tells the settings of a channel by its name, from the declaration it matches. */
export interface ChannelSettingsSource {
  /** The settings of `channel`, or `undefined` when no declaration matches it. */
  settingsOf(channel: string): ChannelSettings | undefined;
}
