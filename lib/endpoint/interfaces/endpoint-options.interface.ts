import type { IncomingMessage } from 'node:http';

/**
 * Where the auth token of a connection comes from: a cookie, a header, a query
 * parameter, or a function of the upgrade request.
 */
export type TokenSource =
  | { cookie: string }
  | { header: string }
  | { query: string }
  | ((request: IncomingMessage) => string | undefined);

/**
 * Decides whether a connection may open. Return `false` (or nothing) to refuse it
 * with 403, `true` to accept it, or an object to accept it and start the session's
 * `data` bag with that object's properties (the user the token belongs to, say).
 */
export type Authenticator = (token: string, request: IncomingMessage) => AuthenticatorAnswer | Promise<AuthenticatorAnswer>;

/**
 * What an `Authenticator` answers: `false`, `null` or nothing refuses, `true` accepts,
 * an object (a JWT's payload, say) accepts and starts the session's data.
 */
export type AuthenticatorAnswer = boolean | object | null | undefined;

/**
 * What happens when a client reads more slowly than the server sends and
 * `maxBufferedBytes` are waiting for it: `'close'` closes the session with code 4000
 * and reason `slow consumer`; `'drop'` drops the frame and counts it
 * (`EasyWsSession.droppedFrames`).
 */
export type SlowConsumerPolicy = 'close' | 'drop';

/**
 * A token bucket per session: a frame costs one token, tokens come back at
 * `framesPerSecond` up to `burst`. A frame that finds no token is not handled and
 * gets the notice `websocket: rate limited`.
 */
export interface RateLimitOptions {
  /** How many frames per second a session may send in the long run. */
  framesPerSecond: number;
  /** How many frames a session may send at once, after a quiet spell. Default: `framesPerSecond`, at least 1. */
  burst?: number;
  /**
   * Persistent abuse: once this many frames were refused within `rejectionWindow`,
   * the session is closed with 1008 (policy violation). Default 20.
   */
  maxRejections?: number;
  /** The window for `maxRejections`, in milliseconds, counted from the first refusal in it. Default 10 000. */
  rejectionWindow?: number;
}

/** Decides whether a browser page of `origin` may open a connection. */
export type OriginCheck = (origin: string, request: IncomingMessage) => boolean;

/**
 * The options of an endpoint: its handshake, and the limits of its sessions. Every one
 * has a default. `EasyWsModule.forRoot()` takes these and more (`EasyWsOptions`); an
 * `EasyWsAdapter` made for an application's own gateways takes these.
 */
export interface EndpointOptions {
  /** The path of the WebSocket endpoint on the app's HTTP server. Default `'/ws'`. */
  path?: string;
  /**
   * Checks the auth token before the upgrade. Without it every connection is accepted
   * (the token, if any, is still read and kept on the session).
   */
  authenticate?: Authenticator;
  /** Where the token comes from. Default `{ cookie: 'auth' }`, as in the Go package. */
  token?: TokenSource;
  /**
   * Browser origins allowed to open a connection: a list of origins
   * (`'https://app.example.com'`), or a function of the `Origin` header and the request
   * (to allow the page's own origin, say). A request with another `Origin` gets 403; a
   * request without one (not a browser) is not affected; a function that throws refuses
   * the request with the same 403, and is logged. Default: every origin.
   */
  allowedOrigins?: string[] | OriginCheck;
  /** The largest frame a client may send, in bytes; a larger one closes the connection with 1009. Default 64 KiB. */
  maxPayload?: number;
  /** How many channels one session may listen to; one more `listen` gets `websocket: too many channels`. Default 128. */
  maxChannelsPerSession?: number;
  /** How many connections this server holds at once; a handshake beyond it gets HTTP 503. Default: no limit. */
  maxConnections?: number;
  /**
   * How many connections may share one auth token at once; a handshake beyond it gets
   * HTTP 503. Connections without a token are not counted. Default: no limit.
   */
  maxConnectionsPerToken?: number;
  /**
   * How many connections one user may hold at once on this server (the user is the
   * `sub` that `authenticate` returned); a handshake beyond it gets HTTP 503.
   * Connections without a user are not counted. Default: no limit.
   */
  maxConnectionsPerUser?: number;
  /**
   * How long the authenticator may take, in milliseconds; a handshake whose
   * authenticator has not answered by then gets HTTP 503. Default 10 000.
   */
  handshakeTimeout?: number;
  /**
   * How many handshakes may wait for the authenticator at once; one more gets HTTP 503
   * before the authenticator is called, so that a slow or hanging authenticator cannot
   * make the server hold connections without bound. Counted apart from
   * `maxConnections`, which counts connections once they are open. Default 1000.
   */
  maxPendingHandshakes?: number;
  /**
   * How often the server pings every client, in milliseconds. A client that has not
   * answered one ping with a pong by the next is disconnected, and its close hooks
   * run. `0` turns the heartbeat off. Default 30 000.
   */
  heartbeatInterval?: number;
  /**
   * How many bytes may wait to be sent to one session. A frame is written while fewer
   * than this wait; at or over it, the client has `slowConsumerGrace` to read its
   * buffer back below it, meanwhile frames go on being written up to this many bytes
   * more (the first always, however big), and a client that has not caught up by then
   * counts as slow and `slowConsumer` applies. So a session holds at most twice this,
   * plus two frames. A reply larger than this is written whole. Default 1 MiB.
   */
  maxBufferedBytes?: number;
  /** What to do with a session that counts as slow; a channel may override it. Default `'close'`. */
  slowConsumer?: SlowConsumerPolicy;
  /**
   * How long, in milliseconds, a client with `maxBufferedBytes` or more waiting has to
   * read them back below that before it counts as slow. `0` judges at once, at the
   * first frame that finds the buffer full. Default 1000.
   */
  slowConsumerGrace?: number;
  /** Limits how fast each session may send frames. Default: no limit. */
  rateLimit?: RateLimitOptions;
  /**
   * How long shutdown waits, in milliseconds, at each of its steps: for running
   * handlers to finish, for clients to answer the close, and for close hooks to
   * finish. Default 10 000.
   */
  shutdownTimeout?: number;
  /**
   * How long before its token expires (the `exp` that `authenticate` returned) a
   * session of acknowledged mode is told to refresh it, in milliseconds; the client
   * then sends a new token without reconnecting. Default 30 000.
   */
  refreshBefore?: number;
}
