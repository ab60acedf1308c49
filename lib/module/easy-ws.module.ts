import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { DiscoveryModule, ExternalContextCreator } from '@nestjs/core';
import { EASY_WS_CLOCK, SYSTEM_CLOCK } from '../endpoint/clock.js';
import { ENDPOINT_OPTIONS } from '../endpoint/endpoint-options.js';
import { EndpointStats } from '../endpoint/endpoint-stats.js';
import { CommandStats } from '../handlers/command-stats.js';
import { EasyWsMetrics } from '../metrics/easy-ws-metrics.js';
import { METRICS_OPTIONS } from '../metrics/metrics-options.js';
import { PushStats } from '../push/push-stats.js';
import { ChannelListening } from '../handlers/channel-listening.js';
import { CommandRouter } from '../handlers/command-router.js';
import { HandlerRunner } from '../handlers/handler-runner.js';
import { SessionAuth } from '../handlers/session-auth.js';
import { PresenceAnnouncer } from '../push/presence-announcer.js';
import { SessionEvents } from '../push/session-events.js';
import { EasyWsExplorer } from '../handlers/easy-ws.explorer.js';
import { HandlerInvoker } from '../handlers/handler-invoker.js';
import { HandlerTable } from '../handlers/handler-table.js';
import { LocalSessions } from '../push/local-sessions.js';
import { CHANNEL_SETTINGS, EASY_WS_BROKER } from '../push/push.constants.js';
import { PushService } from '../push/push.service.js';
import { SessionRegistry } from '../push/session-registry.js';
import { AsyncApiRoute } from './asyncapi.route.js';
import type { EasyWsAsyncOptions, EasyWsOptions } from './easy-ws-options.interface.js';
import { EasyWsServer } from './easy-ws.server.js';
import { EASY_WS_OPTIONS, type ResolvedEasyWsOptions, resolveOptions } from './options.js';
import { StrayRejections } from './stray-rejections.js';

/**
 * The providers of the module, in the order of what each needs: the options give the
 * broker (and the endpoint its options); the counts that the metrics read are made
 * for the endpoint, the pushes and the commands; the invoker wraps methods with Nest's context
 * creator; the explorer fills the handler table on init, and the table tells the
 * registry each channel's settings; the registry starts the broker on init and tells
 * the session events, which presence, the channels' leave methods and the auth
 * lifecycle follow; the router serves sessions with all of them; the metrics, when that
 * option is on, are registered on init and read the counts; the server opens the
 * endpoint at bootstrap, once all of that is ready, and runs each session's handlers
 * where stray rejections can be traced back to it, when that option is on; the AsyncAPI
 * route, when the option asks for it, serves the document the table describes.
 */
const PROVIDERS: Provider[] = [
  { provide: EASY_WS_BROKER, inject: [EASY_WS_OPTIONS], useFactory: (options: ResolvedEasyWsOptions) => options.broker },
  { provide: ENDPOINT_OPTIONS, useExisting: EASY_WS_OPTIONS },
  { provide: EASY_WS_CLOCK, useValue: SYSTEM_CLOCK },
  { provide: METRICS_OPTIONS, useExisting: EASY_WS_OPTIONS },
  { provide: EndpointStats, useFactory: () => new EndpointStats() },
  { provide: PushStats, inject: [EASY_WS_OPTIONS], useFactory: (options: ResolvedEasyWsOptions) => new PushStats(options.metrics !== undefined) },
  { provide: CommandStats, inject: [EASY_WS_OPTIONS], useFactory: (options: ResolvedEasyWsOptions) => new CommandStats(options.metrics !== undefined) },
  { provide: HandlerInvoker, inject: [ExternalContextCreator], useFactory: (creator: ExternalContextCreator) => new HandlerInvoker(creator) },
  EasyWsExplorer,
  HandlerTable,
  { provide: CHANNEL_SETTINGS, useExisting: HandlerTable },
  SessionEvents,
  LocalSessions,
  { provide: SessionRegistry, useExisting: LocalSessions },
  PushService,
  PresenceAnnouncer,
  HandlerRunner,
  ChannelListening,
  SessionAuth,
  CommandRouter,
  EasyWsMetrics,
  StrayRejections,
  EasyWsServer,
  AsyncApiRoute,
];

/**
 * The command-protocol WebSocket endpoint of a Nest application. Import it once,
 * in the root module; it is global, so `PushService` and `SessionRegistry` can be
 * injected anywhere.
 */
@Module({})
export class EasyWsModule {
  /**
   * Serves the endpoint with these options.
   * @throws TypeError (`EASY_WS_INVALID_OPTIONS`) for options that cannot work, where the module is declared.
   */
  static forRoot(options: EasyWsOptions = {}): DynamicModule {
    resolveOptions(options); // a mistake fails where the module is declared
    // Resolved again for each app: the default broker must not be shared by two apps built from one module.
    return EasyWsModule.build([], { provide: EASY_WS_OPTIONS, useFactory: () => resolveOptions(options) });
  }

  /** Serves the endpoint with options built from other providers (a `ConfigService`, a `JwtService`). */
  static forRootAsync(options: EasyWsAsyncOptions): DynamicModule {
    return EasyWsModule.build(options.imports ?? [], {
      provide: EASY_WS_OPTIONS,
      inject: options.inject ?? [],
      useFactory: async (...args: unknown[]) => resolveOptions(await options.useFactory(...args)),
    });
  }

  private static build(imports: NonNullable<EasyWsAsyncOptions['imports']>, options: Provider): DynamicModule {
    return {
      module: EasyWsModule,
      global: true,
      imports: [DiscoveryModule, ...imports],
      providers: [options, ...PROVIDERS],
      // EasyWsServer for the health indicator of nestjs-easy-ws/health; it is not exported from the package.
      exports: [PushService, SessionRegistry, EasyWsServer],
    };
  }
}
