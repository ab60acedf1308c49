import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { CommandRouter } from './command-router.js';
import { EASY_WS_OPTIONS } from './constants.js';
import { EasyWsExplorer } from './easy-ws.explorer.js';
import { EasyWsServer } from './easy-ws.server.js';
import type { EasyWsAsyncOptions, EasyWsOptions } from './interfaces/easy-ws-options.interface.js';
import { resolveOptions } from './options.js';
import { PushService } from './push.service.js';
import { SessionRegistry } from './session-registry.js';

const PROVIDERS: Provider[] = [EasyWsExplorer, CommandRouter, SessionRegistry, PushService, EasyWsServer];

/**
 * The command-protocol WebSocket endpoint of a Nest application. Import it once,
 * in the root module; it is global, so `PushService` can be injected anywhere.
 */
@Module({})
export class EasyWsModule {
  /** Serves the endpoint with these options. */
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
      exports: [PushService, SessionRegistry],
    };
  }
}
