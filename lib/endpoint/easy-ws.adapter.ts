import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { Logger, type WebSocketAdapter, type WsMessageHandler } from '@nestjs/common';
import { WebSocketServer, type WebSocket } from 'ws';
import { filter, lastValueFrom, type Observable, tap } from 'rxjs';
import { CLOSE_CODES } from '../protocol/close-codes.js';
import { withCode } from '../protocol/errors.js';
import { Message } from '../protocol/message.js';
import { NOTICES } from '../protocol/notices.js';
import { ACKNOWLEDGED_SUBPROTOCOL, LEGACY_SUBPROTOCOL } from '../protocol/rules.js';
import { describeError } from '../utils/describe-error.js';
import { TIMED_OUT, within } from '../utils/within.js';
import type { EasyWsSession } from './easy-ws-session.js';
import { type ResolvedEndpointOptions, resolveEndpointOptions } from './endpoint-options.js';
import { type EndpointStats, statsOf } from './endpoint-stats.js';
import { admitFrame } from './frame-prelude.js';
import { Handshake } from './handshake.js';
import { startHeartbeat } from './heartbeat.js';
import type { EndpointOptions } from './interfaces/endpoint-options.interface.js';
import { newSessionId, Session } from './session.js';

/** One endpoint: a path on the HTTP server and the sessions connected to it. */
export interface EasyWsEndpoint {
  /** The path it answers upgrades on. */
  readonly path: string;
  /** The sessions connected to it now. */
  readonly sessions: ReadonlySet<EasyWsSession>;
}

interface EndpointState extends EasyWsEndpoint {
  readonly sessions: Set<Session>;
  readonly server: WebSocketServer;
  readonly onUpgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => void;
  onConnect: (session: Session) => void;
  readonly stopHeartbeat: () => void;
  readonly stats: EndpointStats;
  /** Set once shutdown began: upgrades are refused from then on. */
  closing: boolean;
}

/**
 * A Nest `WebSocketAdapter` on `ws` that speaks the command protocol.
 *
 * It attaches to the application's own HTTP server and answers upgrades for its
 * path only, leaving every other path to whoever else listens for upgrades. The
 * handshake (origin, token, authenticator, limits) decides before any socket is
 * kept. `EasyWsModule` drives one for its endpoint; an application may also hand
 * one to `app.useWebSocketAdapter()` to serve its own `@WebSocketGateway` classes
 * with `command: data` frames.
 */
export class EasyWsAdapter implements WebSocketAdapter<EasyWsEndpoint, EasyWsSession> {
  private readonly logger = new Logger('EasyWs');
  private readonly options: ResolvedEndpointOptions;
  private readonly endpoints = new Set<EndpointState>();
  private readonly handshake: Handshake;

  /**
   * @param httpServer the server to attach to: `app.getHttpServer()`.
   * @param options the endpoint's options; for the endpoint path, a gateway's `path` wins.
   * @throws TypeError (`EASY_WS_INVALID_OPTIONS`) for options that cannot work.
   */
  constructor(
    private readonly httpServer: Server,
    options: EndpointOptions = {},
  ) {
    this.options = resolveEndpointOptions(options);
    this.handshake = new Handshake(this.options);
  }

  /** Starts answering upgrades on `options.path` (default: the adapter's path). */
  create(port: number, options: { path?: string } = {}): EasyWsEndpoint {
    if (port) {
      throw withCode(
        new Error(`EasyWsAdapter serves the application's own HTTP server; a gateway port (${port}) is not supported: give the gateway a path instead`),
        'EASY_WS_INVALID_OPTIONS',
      );
    }
    const path = options.path ?? this.options.path;
    const sessions = new Set<Session>();
    const stats = statsOf(this);
    const endpoint: EndpointState = {
      path,
      sessions,
      stats,
      closing: false,
      server: new WebSocketServer({
        noServer: true,
        maxPayload: this.options.maxPayload,
        perMessageDeflate: false,
        clientTracking: false,
        handleProtocols: chooseSubprotocol,
        verifyClient: this.handshake.verifier(() => endpoint.closing, stats),
      }),
      onConnect: () => undefined,
      onUpgrade: (request, socket, head) => {
        const requested = pathOf(request);
        if (requested === path) {
          endpoint.server.handleUpgrade(request, socket, head, (webSocket, upgraded) => this.accept(endpoint, webSocket, upgraded));
        } else if (this.isUnclaimed(requested, endpoint)) {
          refuseUnclaimed(socket);
        }
      },
      stopHeartbeat: startHeartbeat(sessions, this.options.heartbeatInterval),
    };
    this.httpServer.on('upgrade', endpoint.onUpgrade);
    this.endpoints.add(endpoint);
    return endpoint;
  }

  /**
   * Whether an upgrade for `path` has no taker: none of this adapter's endpoints serves
   * it and no other upgrade listener is on the server. Node destroys such a request
   * only while the server has no upgrade listener at all, so without an answer the
   * client would wait forever. Only the first endpoint answers, so it is answered once.
   */
  private isUnclaimed(path: string, endpoint: EndpointState): boolean {
    const [first] = this.endpoints;
    const ours = new Set([...this.endpoints].map((each) => each.onUpgrade));
    return (
      first === endpoint &&
      ![...this.endpoints].some((each) => each.path === path) &&
      this.httpServer.listeners('upgrade').every((listener) => ours.has(listener as EndpointState['onUpgrade']))
    );
  }

  /** Calls `callback` with each new session, once its handshake succeeded. */
  bindClientConnect(endpoint: EasyWsEndpoint, callback: (session: EasyWsSession) => void): void {
    (endpoint as EndpointState).onConnect = callback;
  }

  /** Calls `callback` once the session's connection has closed. */
  bindClientDisconnect(session: EasyWsSession, callback: () => void): void {
    session.onceClosed(callback);
  }

  /** Closes a session that connected before the application was ready. */
  closeClient(session: EasyWsSession): void {
    session.close(CLOSE_CODES.goingAway, 'server not ready');
  }

  /** Serves a Nest gateway: each frame goes to the `@SubscribeMessage` handler named by its command. */
  bindMessageHandlers(
    session: EasyWsSession,
    handlers: WsMessageHandler[],
    transform: (data: unknown) => Observable<unknown>,
  ): void {
    const byCommand = new Map(handlers.map((handler) => [handler.message, handler]));
    const engine = session as Session;
    engine.serve(async (frame, isBinary) => {
      const parsed = admitFrame(engine, frame, isBinary);
      if (!parsed) {
        return;
      }
      const handler = byCommand.get(parsed.command);
      if (!handler) {
        return engine.notify({ op: 'command', command: parsed.command }, NOTICES.notSupported);
      }
      const replies = transform(handler.callback(parsed.data, parsed.command)).pipe(
        filter((reply) => reply !== undefined && reply !== null),
        tap((reply) => engine.send(toMessage(reply, parsed.command))),
      );
      await lastValueFrom(replies, { defaultValue: undefined }).catch((error: unknown) => {
        this.logger.error(`Gateway handler for "${parsed.command}" failed`, describeError(error));
      });
    }, Promise.resolve());
  }

  /**
   * Shuts the endpoint down gracefully: refuses new upgrades with 503, stops reading
   * from clients and lets the frames already received be handled (at most
   * `shutdownTimeout`), then closes every session with 1001 (going away) and resolves
   * once all have closed; a client that does not answer the close within
   * `shutdownTimeout` is dropped.
   */
  async close(endpoint: EasyWsEndpoint): Promise<void> {
    const state = endpoint as EndpointState;
    state.closing = true;
    state.stopHeartbeat();
    const sessions = [...state.sessions];
    const { shutdownTimeout } = this.options;
    const finished = Promise.all(sessions.map((session) => session.finish()));
    this.logger.log(`Shutting down ${state.path}: refusing new connections, finishing the frames of ${sessions.length} sessions`);
    if ((await within(finished, shutdownTimeout)) === TIMED_OUT) {
      this.logger.warn(`Handlers were still running ${shutdownTimeout} ms into shutdown; closing their sessions anyway`);
    }
    const closed = Promise.all(sessions.map((session) => new Promise<void>((resolve) => session.onceClosed(resolve))));
    for (const session of sessions) {
      session.close(CLOSE_CODES.goingAway, 'server shutting down');
    }
    if ((await within(closed, shutdownTimeout)) === TIMED_OUT) {
      this.logger.warn(`${state.sessions.size} clients did not answer the close within ${shutdownTimeout} ms; dropping them`);
      state.sessions.forEach((session) => session.terminate());
      await closed;
    }
    this.httpServer.off('upgrade', state.onUpgrade);
    this.endpoints.delete(state);
    if (this.endpoints.size === 0) {
      this.handshake.stop();
    }
  }

  /** Closes every endpoint this adapter opened. */
  async dispose(): Promise<void> {
    await Promise.all([...this.endpoints].map((endpoint) => this.close(endpoint)));
  }

  /**
   * Makes the session of a connection ws has just upgraded. Only what the session keeps
   * is taken from the request: a closure over the request would keep all of it alive
   * for as long as the connection lasts.
   */
  private accept(endpoint: EndpointState, webSocket: WebSocket, request: IncomingMessage): void {
    const admission = this.handshake.take(request);
    if (!admission) {
      webSocket.terminate(); // cannot happen: every upgrade passes the handshake first
      return;
    }
    webSocket.once('close', admission.release);
    try {
      const session = new Session(newSessionId(), admission.credentials, request.headers, request.socket.remoteAddress, webSocket, this.options, endpoint.stats);
      endpoint.stats.connectionsOpened++;
      endpoint.sessions.add(session);
      session.onceClosed(() => endpoint.sessions.delete(session));
      endpoint.onConnect(session);
    } catch (error) {
      this.logger.error('A WebSocket connection could not be set up', describeError(error));
      webSocket.close(CLOSE_CODES.internalError, 'internal server error');
    }
  }
}

function chooseSubprotocol(offered: Set<string>): string | false {
  if (offered.has(ACKNOWLEDGED_SUBPROTOCOL)) {
    return ACKNOWLEDGED_SUBPROTOCOL;
  }
  return offered.has(LEGACY_SUBPROTOCOL) ? LEGACY_SUBPROTOCOL : false;
}

function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * Answers an upgrade for a path nobody serves with 404 and drops the connection. ws has
 * no public refusal outside a handshake it handles, and it answers a path it does not
 * serve with 400.
 */
function refuseUnclaimed(socket: Duplex): void {
  const body = 'No WebSocket endpoint here\n';
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

function toMessage(reply: unknown, command: string): Message {
  if (reply instanceof Message) {
    return reply;
  }
  const { event, data } = reply as { event?: unknown; data?: unknown };
  return typeof event === 'string' ? new Message(event, data as never) : new Message(command, reply as never);
}
