import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import { CommandRouter } from './command-router.js';
import { EASY_WS_OPTIONS } from './constants.js';
import { EasyWsAdapter, type EasyWsEndpoint } from './easy-ws.adapter.js';
import { EasyWsExplorer } from './easy-ws.explorer.js';
import type { EasyWsSession } from './easy-ws-session.js';
import type { ResolvedEasyWsOptions } from './options.js';
import { SessionRegistry } from './session-registry.js';
import { TIMED_OUT, within } from './timeout.js';

/**
 * Runs the endpoint through the application's life: builds the handler table and
 * starts the broker on init, opens the endpoint on the HTTP server at bootstrap
 * (so it exists in an app that declares no gateway), and on shutdown, in this
 * order, refuses new upgrades, lets running handlers finish, closes every session
 * with 1001, waits for their close hooks, and stops the broker.
 */
@Injectable()
export class EasyWsServer implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private adapter: EasyWsAdapter | undefined;
  private endpoint: EasyWsEndpoint | undefined;
  private readonly closing = new Set<Promise<void>>();
  private readonly logger = new Logger('EasyWs');

  constructor(
    @Inject(EASY_WS_OPTIONS) private readonly options: ResolvedEasyWsOptions,
    private readonly explorer: EasyWsExplorer,
    private readonly router: CommandRouter,
    private readonly registry: SessionRegistry,
    private readonly httpAdapterHost: HttpAdapterHost,
  ) {}

  async onModuleInit(): Promise<void> {
    const table = this.explorer.explore();
    this.router.load(table);
    this.registry.useSlowConsumerPolicies((channel) => table.channels.match(channel)?.target.slowConsumer);
    await this.options.broker.start((operation) => this.registry.apply(operation));
  }

  onApplicationBootstrap(): void {
    const httpServer = this.httpAdapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!httpServer) {
      throw new Error('EasyWsModule needs an HTTP application (NestFactory.create), not an application context');
    }
    this.warnOfCrossSiteHijacking();
    this.adapter = new EasyWsAdapter(httpServer, this.options);
    this.endpoint = this.adapter.create(0);
    this.adapter.bindClientConnect(this.endpoint, (session) => this.connect(session));
  }

  async onModuleDestroy(): Promise<void> {
    if (this.adapter && this.endpoint) {
      await this.adapter.close(this.endpoint);
    }
    const { shutdownTimeout } = this.options;
    if ((await within(Promise.all(this.closing), shutdownTimeout)) === TIMED_OUT) {
      this.logger.warn(`Close hooks were still running ${shutdownTimeout} ms after the last session closed; stopping the broker anyway`);
    }
    await this.options.broker.close();
  }

  /**
   * A browser sends its cookies with a WebSocket upgrade from any page, so cookie
   * authentication without an Origin allow-list lets any site act as the user.
   */
  private warnOfCrossSiteHijacking(): void {
    const { token, authenticate, allowedOrigins } = this.options;
    if (authenticate && !allowedOrigins && typeof token === 'object' && 'cookie' in token) {
      this.logger.warn(
        'Connections are authenticated by cookie but "allowedOrigins" is not set: any web page can open a connection ' +
          "with a visitor's cookie (Cross-Site WebSocket Hijacking). Set allowedOrigins to the origins of your web app.",
      );
    }
  }

  private connect(session: EasyWsSession): void {
    this.registry.add(session);
    const opening = this.registry.sessionReady(session).then(() => this.router.open(session));
    this.adapter?.bindClientDisconnect(session, () => this.disconnect(session, opening));
    session.serve((frame, isBinary) => this.router.handle(session, frame, isBinary), opening);
  }

  /** The close hooks wait for the open hooks, so that what an open hook set up is there to tear down. */
  private disconnect(session: EasyWsSession, opening: Promise<void>): void {
    this.registry.remove(session);
    const closing = opening.then(() => this.router.close(session)).finally(() => this.closing.delete(closing));
    this.closing.add(closing);
  }
}
