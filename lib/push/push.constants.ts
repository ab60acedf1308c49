import type { EasyWsSession } from '../endpoint/easy-ws-session.js';
import type { SlowConsumerPolicy } from '../endpoint/interfaces/endpoint-options.interface.js';
import type { HistorySettings } from './broker.interface.js';

/** Injection token of the `Broker` the application configured. */
export const EASY_WS_BROKER = Symbol('EASY_WS_BROKER');

/** Injection token of the `ChannelSettingsSource`: what the application declared about each channel. */
export const CHANNEL_SETTINGS = Symbol('EASY_WS_CHANNEL_SETTINGS');

/** What a presence channel tells of each member. */
export interface PresenceSettings {
  /** Computes a member's `info` when its session joins; without it, members carry only their session id. */
  readonly info?: (session: EasyWsSession) => unknown;
}

/** What the application declared about a channel that pushes to it must respect. */
export interface ChannelSettings {
  /** The slow-consumer policy for this channel's pushes; default: the module's. */
  readonly slowConsumer?: SlowConsumerPolicy;
  /** Whether, and how much, the channel's pushes are kept for listeners to recover what they missed. */
  readonly history?: HistorySettings;
  /** Whether the channel tells who is in it. */
  readonly presence?: PresenceSettings;
}

/** Tells the settings of a channel by its name, from the declaration it matches. */
export interface ChannelSettingsSource {
  /** The settings of `channel`, or `undefined` when no declaration matches it. */
  settingsOf(channel: string): ChannelSettings | undefined;
  /** The history settings of `channel`; answered without matching when no declaration keeps history. */
  historyOf(channel: string): HistorySettings | undefined;
}
