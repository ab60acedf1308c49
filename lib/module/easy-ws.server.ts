import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import { EasyWsAdapter, type EasyWsEndpoint } from '../endpoint/easy-ws.adapter.js';
import { countInto, EndpointStats } from '../endpoint/endpoint-stats.js';
import type { Session } from '../endpoint/session.js';
import { CommandRouter } from '../handlers/command-router.js';
import { withCode } from '../protocol/errors.js';
import type { Broker } from '../push/broker.interface.js';
import { LocalSessions } from '../push/local-sessions.js';
import { PresenceAnnouncer } from '../push/presence-announcer.js';
import { EASY_WS_BROKER } from '../push/push.constants.js';
import { TIMED_OUT, within } from '../utils/within.js';
import { EASY_WS_OPTIONS, type ResolvedEasyWsOptions } from './options.js';
import { StrayRejections } from './stray-rejections.js';

/** How the endpoint is doing, as the health indicator reports it. */
export interface EndpointStatus {
  /** Whether new connections are taken: from bootstrap until shutdown begins. */
  readonly accepting: boolean;
  /** Whether pushes reach the other instances (always, for a broker within the process). */
  readonly brokerConnected: boolean;
  /** Sessions open now. */
  readonly sessions: number;
}

/**
 * Runs the endpoint through the application's life: opens it on the HTTP server at
 * bootstrap (so it exists in an app that declares no gateway), hands each new session
 * to the registry and the router, and on shutdown, in this order, refuses new
 * upgrades, lets running handlers finish, closes every session with 1001, waits for
 * their close hooks, and stops the broker (which the registry started on init, as
 * the sink of its operations).
 */
@Injectable()
export class EasyWsServer implements OnApplicationBootstrap, OnModuleDestroy {
  private adapter: EasyWsAdapter | undefined;
  private endpoint: EasyWsEndpoint | undefined;
  private readonly closing = new Set<Promise<void>>();
  private readonly logger = new Logger('EasyWs');
  private accepting = false;

  constructor(
    @Inject(EASY_WS_OPTIONS) private readonly options: ResolvedEasyWsOptions,
    @Inject(EASY_WS_BROKER) private readonly broker: Broker,
    private readonly router: CommandRouter,
    private readonly sessions: LocalSessions,
    private readonly presence: PresenceAnnouncer,
    private readonly httpAdapterHost: HttpAdapterHost,
    private readonly strays: StrayRejections,
    private readonly stats: EndpointStats,
  ) {}

  /** How the endpoint is doing now. */
  status(): EndpointStatus {
    return { accepting: this.accepting, brokerConnected: this.broker.connected !== false, sessions: this.sessions.sessionCount };
  }

  onApplicationBootstrap(): void {
    const httpServer = this.httpAdapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!httpServer) {
      throw withCode(
        new Error('EasyWsModule needs an HTTP application (NestFactory.create), not an application context'),
        'EASY_WS_NOT_STARTED',
      );
    }
    this.warnOfCrossSiteHijacking();
    this.adapter = new EasyWsAdapter(httpServer, this.options);
    countInto(this.adapter, this.stats);
    this.endpoint = this.adapter.create(0);
    this.accepting = true;
    this.adapter.bindClientConnect(this.endpoint, (session) => this.connect(session as Session));
  }

  async onModuleDestroy(): Promise<void> {
    this.accepting = false;
    if (this.adapter && this.endpoint) {
      await this.adapter.close(this.endpoint);
    }
    const { shutdownTimeout } = this.options;
    if ((await within(Promise.all(this.closing), shutdownTimeout)) === TIMED_OUT) {
      this.logger.warn(`Close hooks were still running ${shutdownTimeout} ms after the last session closed; stopping the broker anyway`);
    }
    this.presence.flush();
    // A broker that waits on a server which stopped answering must not hold shutdown up.
    if ((await within(this.broker.close(), shutdownTimeout)) === TIMED_OUT) {
      this.logger.warn(`The broker had not closed ${shutdownTimeout} ms into its close; shutting down without it`);
    }
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

  private connect(session: Session): void {
    this.sessions.add(session);
    const { router, strays } = this;
    const open = (): Promise<void> => (strays.enabled ? strays.run(session, 'open', () => router.open(session)) : router.open(session));
    const opening = this.sessions.sessionReady(session).then(open);
    session.onceClosed(() => this.disconnect(session, opening));
    session.serve(
      strays.enabled
        ? (frame, isBinary) => strays.run(session, { frame, isBinary }, () => router.handle(session, frame, isBinary))
        : (frame, isBinary) => router.handle(session, frame, isBinary),
      opening,
    );
  }

  /** The close hooks wait for the open hooks, so that what an open hook set up is there to tear down. */
  private disconnect(session: Session, opening: Promise<void>): void {
    this.sessions.remove(session);
    const { router, strays } = this;
    const close = (): Promise<void> => (strays.enabled ? strays.run(session, 'close', () => router.close(session)) : router.close(session));
    const closing = opening.then(close).finally(() => this.closing.delete(closing));
    this.closing.add(closing);
  }
}
