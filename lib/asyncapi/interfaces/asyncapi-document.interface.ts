import type { JsonSchema } from '../../handlers/interfaces/handler-documentation.interface.js';

/** A pointer to another part of the document, such as `#/components/messages/server.said`. */
export interface AsyncApiReference {
  /** The JSON Pointer of the part, within the document. */
  readonly $ref: string;
}

/** The endpoint as an AsyncAPI server: where clients connect, and how they authenticate. */
export interface AsyncApiServer {
  /** The host (and port), from the `asyncapi.host` option. */
  readonly host: string;
  /** `ws`, or `wss` behind TLS, from the `asyncapi.protocol` option. */
  readonly protocol: 'ws' | 'wss';
  /** The endpoint's path (the `path` option). */
  readonly pathname: string;
  /** A name for the server. */
  readonly title: string;
  /** The handshake: the subprotocols, the token, and the HTTP refusals. */
  readonly description: string;
  /** The token, when `authenticate` checks it. */
  readonly security?: readonly AsyncApiReference[];
}

/** A frame, as AsyncAPI describes a message: its command is `name`, its data `payload`. */
export interface AsyncApiMessage {
  /** The frame's command. */
  readonly name: string;
  /** A name for the message: the command, or what the frame is. */
  readonly title: string;
  /** A short summary, from the declaration. */
  readonly summary?: string;
  /** A longer description (CommonMark). */
  readonly description?: string;
  /** `text/plain` for text, `application/json` for JSON, `application/octet-stream` for bytes. */
  readonly contentType: string;
  /** The frame's data: what follows `<command>: `. */
  readonly payload: JsonSchema;
}

/** A close code a client may see, and when. */
export interface AsyncApiCloseCode {
  /** The close code. */
  readonly code: number;
  /** The close reason the server sends, empty when it sends none. */
  readonly reason: string;
  /** When the server, or `ws` for it, closes with it. */
  readonly when: string;
}

/**
 * A channel: the connection itself (the endpoint's channel, with its close codes), or a
 * `@ListenChannel` declaration, whose `address` is its pattern with `{param}` for each
 * `:param`, with whether it keeps history or tracks presence.
 */
export interface AsyncApiChannel {
  /** The channel name pattern (`rooms/{room}`); `null` for the connection itself, whose path is the server's. */
  readonly address: string | null;
  /** The pattern as declared (`rooms/:room`), or a name for the connection. */
  readonly title: string;
  /** A short summary, from the declaration. */
  readonly summary?: string;
  /** What the channel is, and what it keeps. */
  readonly description: string;
  /** The server of the connection. */
  readonly servers?: readonly AsyncApiReference[];
  /** The pattern's params, by name. */
  readonly parameters?: Readonly<Record<string, { readonly description: string }>>;
  /** The messages of the channel's operations, by key. */
  readonly messages: Readonly<Record<string, AsyncApiMessage | AsyncApiReference>>;
  /** The handshake as the WebSockets binding describes it: the subprotocols, and the token's header or query parameter. */
  readonly bindings?: { readonly ws: { readonly method: 'GET'; readonly headers?: JsonSchema; readonly query?: JsonSchema; readonly bindingVersion: '0.1.0' } };
  /** The close codes a client of the endpoint may see. */
  readonly 'x-easy-ws-close-codes'?: readonly AsyncApiCloseCode[];
  /** The channel's `history` option, where the declaration has one. */
  readonly 'x-easy-ws-history'?: Readonly<Record<string, unknown>>;
  /** Whether the channel tracks presence (its `presence` option). */
  readonly 'x-easy-ws-presence'?: true;
}

/**
 * Something the server does: `receive` a frame from a client (a command, a listen, an
 * unlisten), with the frames that may answer it as `reply`, or `send` frames (the open
 * hook's replies, pushes).
 */
export interface AsyncApiOperation {
  /** `receive`: a client sends the message; `send`: the server does. */
  readonly action: 'send' | 'receive';
  /** The channel it happens on. */
  readonly channel: AsyncApiReference;
  /** The command, or what the operation is. */
  readonly title: string;
  /** A short summary, from the declaration. */
  readonly summary?: string;
  /** A longer description (CommonMark). */
  readonly description?: string;
  /** The messages sent or received, on the operation's channel. */
  readonly messages: readonly AsyncApiReference[];
  /** The frames that may answer a received one: declared replies, then the acknowledgement and the notice. */
  readonly reply?: { readonly channel: AsyncApiReference; readonly messages: readonly AsyncApiReference[] };
}

/**
 * The AsyncAPI 3.0 document of an endpoint, from the point of view of the server: it
 * `receive`s commands, listens and unlistens, and `send`s replies, pushes and notices.
 * Plain JSON: write it to a file with `JSON.stringify`.
 */
export interface AsyncApiDocument {
  /** The version of AsyncAPI the document follows. */
  readonly asyncapi: '3.0.0';
  /** The title, version and description of the API, from the `asyncapi` options. */
  readonly info: { readonly title: string; readonly version: string; readonly description?: string };
  /** The content type of a message that does not name its own. */
  readonly defaultContentType: string;
  /** The endpoint, as `endpoint`. */
  readonly servers: Readonly<Record<string, AsyncApiServer>>;
  /** The connection, as `connection`, and a channel per `@ListenChannel` pattern. */
  readonly channels: Readonly<Record<string, AsyncApiChannel>>;
  /** What the server receives and sends. */
  readonly operations: Readonly<Record<string, AsyncApiOperation>>;
  /** The parts the channels and operations refer to. */
  readonly components: {
    /** Every message, by key: `client.<command>`, `server.<command>`, `notice`, `acknowledgement`, `listen.<channel>`, `unlisten.<channel>`. */
    readonly messages: Readonly<Record<string, AsyncApiMessage>>;
    /** The schemas of payload classes, by class name. */
    readonly schemas: Readonly<Record<string, JsonSchema>>;
    /** The token, as `token`, when `authenticate` checks it. */
    readonly securitySchemes: Readonly<Record<string, JsonSchema>>;
  };
}
