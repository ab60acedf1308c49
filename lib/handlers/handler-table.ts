import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { withCode } from '../protocol/errors.js';
import type { Broker, HistorySettings } from '../push/broker.interface.js';
import { type ChannelSettings, type ChannelSettingsSource, EASY_WS_BROKER } from '../push/push.constants.js';
import type { ChannelMatcher } from './channel-matcher.js';
import { EasyWsExplorer } from './easy-ws.explorer.js';
import type { ChannelHandler, DeclaredHandler, Handlers, RouteHandler } from './interfaces/route-handler.interface.js';

/**
 * Every handler of the application, found on module init (once every provider of every
 * module exists) and fixed from then on. The endpoint opens only at bootstrap, after
 * every module's init, so no frame arrives before the table is complete.
 */
@Injectable()
export class HandlerTable implements OnModuleInit, ChannelSettingsSource {
  private handlers: Handlers | undefined;
  /** Whether any channel keeps history; when none does, a push needs no match to know. */
  private keepsHistory = false;

  constructor(
    private readonly explorer: EasyWsExplorer,
    @Inject(EASY_WS_BROKER) private readonly broker: Broker,
  ) {}

  /** @throws Error (`EASY_WS_INVALID_DECLARATION`) for a declaration that cannot work, or that the broker cannot serve. */
  onModuleInit(): void {
    const handlers = this.explorer.explore();
    for (const { owner, settings } of handlers.channels.targets()) {
      this.keepsHistory ||= settings.history !== undefined;
      for (const [feature, declared, served] of [
        ['history', settings.history, this.broker.history],
        ['presence', settings.presence, this.broker.presence],
      ] as const) {
        if (declared && !served) {
          throw withCode(
            new Error(`${owner} declares a channel with ${feature}, but the configured broker (${this.broker.constructor.name}) keeps no ${feature}: use LocalBroker or RedisBroker`),
            'EASY_WS_INVALID_DECLARATION',
          );
        }
      }
    }
    this.handlers = handlers;
  }

  /** The `@Command` methods, by command. */
  get commands(): ReadonlyMap<string, RouteHandler> {
    return this.found().commands;
  }

  /** The `@ListenChannel` methods, by the channels they match. */
  get channels(): ChannelMatcher<ChannelHandler> {
    return this.found().channels;
  }

  /** The `@OnOpen` methods, in the order they were found. */
  get open(): readonly RouteHandler[] {
    return this.found().open;
  }

  /** The `@OnClose` methods, in the order they were found. */
  get close(): readonly RouteHandler[] {
    return this.found().close;
  }

  /** Every declaration with its `@MessageBody()` parameters, in the order found: what the AsyncAPI document describes. */
  get declared(): readonly DeclaredHandler[] {
    return this.found().declared;
  }

  settingsOf(channel: string): ChannelSettings | undefined {
    return this.found().channels.match(channel)?.target.settings;
  }

  historyOf(channel: string): HistorySettings | undefined {
    return this.keepsHistory ? this.settingsOf(channel)?.history : undefined;
  }

  private found(): Handlers {
    if (!this.handlers) {
      throw withCode(new Error('EasyWs: the handler table is read before module init, when it is built'), 'EASY_WS_NOT_STARTED');
    }
    return this.handlers;
  }
}
