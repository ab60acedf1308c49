import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { Logger, type WebSocketAdapter, type WsMessageHandler } from '@nestjs/common';
import { WebSocketServer, type WebSocket } from 'ws';
import { filter, lastValueFrom, type Observable, tap } from 'rxjs';
import { ConnectionLimits } from './connection-limits.js';
import { ACKNOWLEDGED_SUBPROTOCOL, CLOSE_CODES, LEGACY_SUBPROTOCOL } from './constants.js';
import { EasyWsSession } from './easy-ws-session.js';
import { parseFrame } from './frame-codec.js';
import type { TokenSource } from './interfaces/easy-ws-options.interface.js';
import { Message } from './message.js';
import { type ResolvedEasyWsOptions, resolveOptions } from './options.js';
import { NOTICES, noticeFor, subjectOf } from './command-router.js';
import { TIMED_OUT, within } from './timeout.js';

/** One endpoint: a path on the HTTP server and the sessions connected to it. */
export interface EasyWsEndpoint {
  readonly path: string;
  readonly sessions: ReadonlySet<EasyWsSession>;
}

interface EndpointState extends EasyWsEndpoint {
  readonly sessions: Set<EasyWsSession>;
  readonly server: WebSocketServer;
  readonly onUpgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => void;
  onConnect: (session: EasyWsSession) => void;
  /** The one timer that pings every session of the endpoint. */
  readonly heartbeat: ReturnType<typeof setInterval> | undefined;
  /** Set once shutdown began: upgrades are refused from then on. */
  closing: boolean;
}

const FORBIDDEN_RESPONSE = 'Authentication failed\n';
const SHUTTING_DOWN_RESPONSE = 'Server shutting down\n';
const UNAVAILABLE = { status: 503, statusText: 'Service Unavailable' } as const;

/**
 * A Nest `WebSocketAdapter` on `ws` that speaks the command protocol.
 *
 * It attaches to the application's own HTTP server and answers upgrades for its
 * path only, leaving every other path to whoever else listens for upgrades. The
 * handshake checks the origin, reads the token, runs the authenticator and picks
 * the subprotocol before any socket is kept. `EasyWsModule` drives one for its
 * endpoint; an application may also hand one to `app.useWebSocketAdapter()` to
 * serve its own `@WebSocketGateway` classes with `command: data` frames.
 */
export class EasyWsAdapter implements WebSocketAdapter<EasyWsEndpoint, EasyWsSession> {
  private readonly logger = new Logger('EasyWs');
  private readonly options: ResolvedEasyWsOptions;
  private readonly endpoints = new Set<EndpointState>();
  private readonly connections: ConnectionLimits;

  /**
   * @param httpServer the server to attach to: `app.getHttpServer()`.
   * @param options the module's options; for the endpoint path, a gateway's `path` wins.
   */
  constructor(
    private readonly httpServer: Server,
    options: ResolvedEasyWsOptions = resolveOptions(),
  ) {
    this.options = options;
    this.connections = new ConnectionLimits(options.maxConnections, options.maxConnectionsPerToken);
  }

  /** Starts answering upgrades on `options.path` (default: the module's path). */
  create(port: number, options: { path?: string } = {}): EasyWsEndpoint {
    if (port) {
      throw new Error(`EasyWsAdapter serves the application's own HTTP server; a gateway port (${port}) is not supported`);
    }
    const path = options.path ?? this.options.path;
    const server = new WebSocketServer({
      noServer: true,
      maxPayload: this.options.maxPayload,
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: chooseSubprotocol,
    });
    const sessions = new Set<EasyWsSession>();
    const { heartbeatInterval } = this.options;
    const endpoint: EndpointState = {
      path,
      server,
      sessions,
      closing: false,
      onConnect: () => undefined,
      onUpgrade: (request, socket, head) => {
        const requested = pathOf(request);
        if (requested === path) {
          void this.upgrade(endpoint, request, socket, head);
        } else if (this.isUnclaimed(requested, endpoint)) {
          refuse(socket, 404, 'Not Found', 'No WebSocket endpoint here\n');
        }
      },
      heartbeat:
        heartbeatInterval > 0
          ? setInterval(() => sessions.forEach((session) => session.heartbeat()), heartbeatInterval).unref()
          : undefined,
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
    session.serve(async (frame, isBinary) => {
      const parsed = parseFrame(frame, isBinary);
      if (!session.admitFrame()) {
        return session.send(noticeFor(session, subjectOf(parsed), NOTICES.rateLimited));
      }
      const handler = parsed && byCommand.get(parsed.command);
      if (!handler) {
        return session.send(noticeFor(session, subjectOf(parsed), NOTICES.notSupported));
      }
      const replies = transform(handler.callback(parsed.data, parsed.command)).pipe(
        filter((reply) => reply !== undefined && reply !== null),
        tap((reply) => session.send(toMessage(reply, parsed.command))),
      );
      await lastValueFrom(replies, { defaultValue: undefined }).catch((error: unknown) => {
        this.logger.error(`Gateway handler for "${parsed.command}" failed`, (error as Error)?.stack ?? error);
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
    clearInterval(state.heartbeat);
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
  }

  /** Closes every endpoint this adapter opened. */
  async dispose(): Promise<void> {
    await Promise.all([...this.endpoints].map((endpoint) => this.close(endpoint)));
  }

  /**
   * Keeps a new session until it closes. Apart from `upgrade`, so that the closure it
   * leaves on the session does not hold the upgrade request and its raw headers.
   */
  private accept(endpoint: EndpointState, session: EasyWsSession): void {
    endpoint.sessions.add(session);
    session.onceClosed(() => endpoint.sessions.delete(session));
    endpoint.onConnect(session);
  }

  private async upgrade(endpoint: EndpointState, request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // Until ws takes the socket over, a reset would be an unhandled 'error' event.
    const onSocketError = (): void => {
      socket.destroy();
    };
    socket.on('error', onSocketError);
    let webSocket: WebSocket | undefined;
    try {
      if (endpoint.closing) {
        return refuse(socket, UNAVAILABLE.status, UNAVAILABLE.statusText, SHUTTING_DOWN_RESPONSE);
      }
      const origin = request.headers.origin;
      if (origin !== undefined && this.options.allowedOrigins && !this.options.allowedOrigins(origin, request)) {
        return refuse(socket, 403, 'Forbidden', 'Origin not allowed\n');
      }
      const token = readToken(this.options.token, request);
      let data: Record<string, unknown> = {};
      if (this.options.authenticate) {
        const { authenticate, handshakeTimeout } = this.options;
        const verdict = token === undefined ? false : await within(Promise.resolve(authenticate(token, request)), handshakeTimeout);
        if (verdict === TIMED_OUT) {
          this.logger.warn(`authenticate did not answer within ${handshakeTimeout} ms; the handshake was refused`);
          return refuse(socket, UNAVAILABLE.status, UNAVAILABLE.statusText, 'Authentication timed out\n');
        }
        if (!verdict) {
          return refuse(socket, 403, 'Forbidden', FORBIDDEN_RESPONSE);
        }
        if (typeof verdict === 'object') {
          data = { ...verdict };
        }
      }
      if (socket.destroyed) {
        return;
      }
      // Checked again here, with no await before the upgrade, so that no handshake slips past a limit or a shutdown.
      const release = endpoint.closing ? undefined : this.connections.acquire(token);
      if (!release) {
        const body = endpoint.closing ? SHUTTING_DOWN_RESPONSE : 'Too many connections\n';
        return refuse(socket, UNAVAILABLE.status, UNAVAILABLE.statusText, body);
      }
      socket.off('error', onSocketError);
      // Only what the session keeps is taken from the request: a closure over the
      // request would keep all of it alive for as long as the connection lasts.
      const { headers } = request;
      const remoteAddress = request.socket.remoteAddress;
      endpoint.server.handleUpgrade(request, socket, head, (upgraded: WebSocket) => {
        webSocket = upgraded;
        upgraded.once('close', release);
        this.accept(endpoint, new EasyWsSession(newSessionId(), token, headers, remoteAddress, upgraded, this.options, data));
      });
      if (!webSocket) {
        release(); // ws refused the handshake itself (a bad key or version), or the socket went away
      }
    } catch (error) {
      this.logger.error('A WebSocket handshake failed', (error as Error)?.stack ?? error);
      if (webSocket) {
        webSocket.close(CLOSE_CODES.internalError, 'internal server error');
      } else {
        refuse(socket, 403, 'Forbidden', FORBIDDEN_RESPONSE);
      }
    }
  }
}

/**
 * A random UUID v4 as one flat string: Node builds `randomUUID()` by concatenation, and
 * kept as it comes, for the session's life, it is a rope of 16 strings, some 500 bytes.
 */
function newSessionId(): string {
  return Buffer.from(randomUUID(), 'latin1').toString('latin1');
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

/** Reads the auth token from where the options say; never throws on a malformed request. */
export function readToken(source: TokenSource, request: IncomingMessage): string | undefined {
  if (typeof source === 'function') {
    return source(request);
  }
  if ('header' in source) {
    const value = request.headers[source.header.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  }
  if ('query' in source) {
    // URLSearchParams, unlike URL, accepts any text, so a malformed request line cannot throw here.
    const url = request.url ?? '';
    const query = url.indexOf('?');
    return query === -1 ? undefined : (new URLSearchParams(url.slice(query)).get(source.query) ?? undefined);
  }
  return readCookie(request.headers.cookie, source.cookie);
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) {
    return undefined;
  }
  for (const pair of header.split(';')) {
    const separator = pair.indexOf('=');
    if (separator !== -1 && pair.slice(0, separator).trim() === name) {
      const raw = pair.slice(separator + 1).trim();
      // RFC 6265 allows a quoted value; Go's net/http, whose clients send it, unquotes it.
      const value = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    }
  }
  return undefined;
}

/** Answers the upgrade request with an HTTP error and drops the connection; no socket is kept. */
function refuse(socket: Duplex, status: number, statusText: string, body: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function toMessage(reply: unknown, command: string): Message {
  if (reply instanceof Message) {
    return reply;
  }
  const { event, data } = reply as { event?: unknown; data?: unknown };
  return typeof event === 'string' ? new Message(event, data as never) : new Message(command, reply as never);
}
