import { patternSegments } from '../handlers/channel-matcher.js';
import type { HandlerDeclaration, ListenChannelOptions } from '../handlers/interfaces/handler-declaration.interface.js';
import type { FrameDeclaration } from '../handlers/interfaces/handler-documentation.interface.js';
import type { DeclaredHandler } from '../handlers/interfaces/route-handler.interface.js';
import type { ResolvedAsyncApiOptions } from './asyncapi-options.js';
import type {
  AsyncApiChannel,
  AsyncApiDocument,
  AsyncApiMessage,
  AsyncApiOperation,
  AsyncApiReference,
} from './interfaces/asyncapi-document.interface.js';
import { PayloadSchemas } from './payload-schemas.js';
import {
  ACKNOWLEDGEMENT_MESSAGE,
  channelRequestMessage,
  closeCodes,
  connectionDescription,
  type DescribedEndpoint,
  EVENT_MESSAGE,
  handshakeBinding,
  handshakeDescription,
  NOTICE_MESSAGE,
  REQUEST_MESSAGE,
  tokenScheme,
} from './protocol-description.js';
import { ServerFrames } from './server-frames.js';

/** What the document is built from: the handler table's declarations and the options. */
export interface EndpointDescription {
  readonly declared: readonly DeclaredHandler[];
  readonly endpoint: DescribedEndpoint;
  readonly options: ResolvedAsyncApiOptions;
}

/** The server, and the channel of the connection itself. */
const SERVER = 'endpoint';
const CONNECTION = 'connection';
const NOTICE = 'notice';
const ACKNOWLEDGEMENT = 'acknowledgement';
const REQUEST = 'request';
const EVENT = 'event';

type Declared<K extends HandlerDeclaration['kind']> = DeclaredHandler & { readonly declaration: Extract<HandlerDeclaration, { kind: K }> };

const reference = (...path: string[]): AsyncApiReference => ({ $ref: `#/${path.join('/')}` });

/** `object` without its undefined properties, so that the document is the same before and after JSON. */
function defined<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
}

/** Names for one map of the document: letters, digits, `.`, `-` and `_` (what AsyncAPI allows), unique. */
class Keys {
  private readonly taken = new Map<string, string>();
  private readonly used = new Set<string>();

  of(name: string): string {
    let key = this.taken.get(name);
    if (key === undefined) {
      const base = name.replace(/[^\w.-]+/g, '_');
      key = base;
      for (let count = 2; this.used.has(key); count++) {
        key = `${base}_${count}`;
      }
      this.taken.set(name, key);
      this.used.add(key);
    }
    return key;
  }
}

/**
 * Builds the AsyncAPI 3.0 document of an endpoint from its declarations and options.
 * @throws Error (`EASY_WS_INVALID_DECLARATION`) for a frame that cannot be described;
 *   Error (`EASY_WS_MISSING_PACKAGE`) when a payload class needs `class-validator-jsonschema` and it is not installed.
 */
export function buildAsyncApiDocument(description: EndpointDescription): Promise<AsyncApiDocument> {
  return new DocumentBuilder(description).build();
}

class DocumentBuilder {
  private readonly schemas = new PayloadSchemas();
  private readonly frames = new ServerFrames();
  private readonly messages: Record<string, AsyncApiMessage> = {};
  private readonly channels: Record<string, AsyncApiChannel> = {};
  private readonly operations: Record<string, AsyncApiOperation> = {};
  private readonly commandKeys = new Keys();
  private readonly frameKeys = new Keys();
  private readonly channelKeys = new Keys();
  private readonly hookKeys = new Keys();

  constructor(private readonly description: EndpointDescription) {}

  async build(): Promise<AsyncApiDocument> {
    const { declared, endpoint, options } = this.description;
    const of = <K extends HandlerDeclaration['kind']>(kind: K) => declared.filter((handler): handler is Declared<K> => handler.declaration.kind === kind);
    // Sorted by code unit, not by locale, so that the document is the same on every machine; names are unique.
    const commands = of('command').sort((a, b) => (a.declaration.command < b.declaration.command ? -1 : 1));
    const channels = of('channel').sort((a, b) => (a.declaration.pattern < b.declaration.pattern ? -1 : 1));
    const hooks = of('open');

    // Every frame the server sends is noted before any is described, so that a name given before its payload finds it.
    const replies = new Map(declared.map((handler) => [handler, handler.declaration.kind === 'close' || handler.declaration.kind === 'leave' ? [] : this.note(handler.declaration.replies, handler)]));
    const pushes = new Map(channels.map((handler) => [handler, this.note(handler.declaration.pushes, handler)]));
    const sessionPushes = this.frames.note(options.pushes, 'the "asyncapi.pushes" option');
    for (const frame of this.frames.describe(this.schemas)) {
      this.messages[`server.${this.frameKeys.of(frame.command)}`] = defined({
        name: frame.command,
        title: frame.command,
        summary: frame.summary,
        description: frame.description,
        contentType: frame.payload.contentType,
        payload: frame.payload.schema,
      });
    }
    this.messages[NOTICE] = NOTICE_MESSAGE;
    this.messages[ACKNOWLEDGEMENT] = ACKNOWLEDGEMENT_MESSAGE;
    this.messages[REQUEST] = REQUEST_MESSAGE;
    this.messages[EVENT] = EVENT_MESSAGE;

    this.channels[CONNECTION] = {
      address: null,
      title: `The connection (${endpoint.path})`,
      description: connectionDescription(endpoint),
      servers: [reference('servers', SERVER)],
      messages: {},
      bindings: handshakeBinding(endpoint),
      'x-easy-ws-close-codes': closeCodes(endpoint),
    };
    this.operations.requests = {
      action: 'receive',
      channel: reference('channels', CONNECTION),
      title: 'Requests of acknowledged mode',
      summary: REQUEST_MESSAGE.summary,
      messages: [this.inChannel(CONNECTION, REQUEST)],
      reply: { channel: reference('channels', CONNECTION), messages: [this.inChannel(CONNECTION, ACKNOWLEDGEMENT)] },
    };
    this.operations.events = {
      action: 'send',
      channel: reference('channels', CONNECTION),
      title: 'Events of acknowledged mode',
      summary: EVENT_MESSAGE.summary,
      messages: [this.inChannel(CONNECTION, EVENT)],
    };
    for (const handler of commands) {
      this.command(handler, replies.get(handler) ?? []);
    }
    for (const handler of channels) {
      this.channel(handler, replies.get(handler) ?? [], pushes.get(handler) ?? []);
    }
    for (const handler of hooks) {
      const frames = replies.get(handler) ?? [];
      if (frames.length > 0) {
        this.operations[`open.${this.hookKeys.of(handler.owner)}`] = defined({
          action: 'send',
          channel: reference('channels', CONNECTION),
          title: 'When a session opens',
          summary: handler.declaration.summary ?? `The first frames of a session, from ${handler.owner}.`,
          description: handler.declaration.description,
          messages: frames.map((command) => this.serverFrame(CONNECTION, command)),
        });
      }
    }
    if (sessionPushes.length > 0) {
      this.operations.pushToSessions = {
        action: 'send',
        channel: reference('channels', CONNECTION),
        title: 'Pushes to sessions',
        summary: 'Frames pushed to one session or to every session, outside channels.',
        messages: sessionPushes.map((command) => this.serverFrame(CONNECTION, command)),
      };
    }
    return this.document(await this.schemas.components());
  }

  private document(schemas: AsyncApiDocument['components']['schemas']): AsyncApiDocument {
    const { endpoint, options } = this.description;
    const scheme = endpoint.authenticate ? tokenScheme(endpoint) : undefined;
    return {
      asyncapi: '3.0.0',
      info: defined({ title: options.title, version: options.version, description: options.description }),
      defaultContentType: 'text/plain',
      servers: {
        [SERVER]: defined({
          host: options.host,
          protocol: options.protocol,
          pathname: endpoint.path,
          title: 'The WebSocket endpoint',
          description: handshakeDescription(endpoint),
          security: scheme && [reference('components', 'securitySchemes', 'token')],
        }),
      },
      channels: this.channels,
      operations: this.operations,
      components: { messages: this.messages, schemas, securitySchemes: scheme ? { token: scheme } : {} },
    };
  }

  /** A command: what the client sends, and what may answer it. */
  private command({ owner, declaration, body }: Declared<'command'>, replies: readonly string[]): void {
    const { command, summary, description } = declaration;
    const key = this.commandKeys.of(command);
    const payload = this.schemas.body(body, `@Command(${JSON.stringify(command)}) on ${owner}`);
    this.messages[`client.${key}`] = {
      name: command,
      title: command,
      description: `Sent as \`${command}: <data>\`.`,
      contentType: payload.contentType,
      payload: payload.schema,
    };
    this.operations[`command.${key}`] = defined({
      action: 'receive',
      channel: reference('channels', CONNECTION),
      title: command,
      summary,
      description,
      messages: [this.inChannel(CONNECTION, `client.${key}`)],
      reply: { channel: reference('channels', CONNECTION), messages: this.answers(CONNECTION, replies) },
    });
  }

  /** A `@ListenChannel` pattern: its channel, listen and unlisten, and its pushes. */
  private channel({ declaration }: Declared<'channel'>, replies: readonly string[], pushes: readonly string[]): void {
    const { pattern, summary, description } = declaration;
    const key = this.channelKeys.of(pattern);
    const segments = patternSegments(pattern);
    const params = segments.flatMap((segment) => ('param' in segment ? [segment.param] : []));
    const { extensions, notes } = features(declaration);
    this.channels[key] = defined({
      address: segments.map((segment) => ('param' in segment ? `{${segment.param}}` : segment.literal)).join('/'),
      title: pattern,
      summary,
      description: [description ?? (params.length > 0 ? `The channels of the pattern \`${pattern}\`; a listener gets their pushes.` : `The channel \`${pattern}\`; a listener gets its pushes.`), ...notes].join(' '),
      parameters:
        params.length > 0
          ? Object.fromEntries(params.map((param) => [param, { description: `The value of \`:${param}\`: one segment of the channel name, without \`/\`.` }]))
          : undefined,
      messages: {},
      ...extensions,
    });
    const channel = reference('channels', key);
    for (const op of ['listen', 'unlisten'] as const) {
      this.messages[`${op}.${key}`] = channelRequestMessage(op, pattern, segments);
      this.operations[`${op}.${key}`] = defined({
        action: 'receive',
        channel,
        title: `${op} ${pattern}`,
        summary: op === 'listen' ? summary : undefined,
        description: op === 'listen' ? 'Guards on the channel decide who may listen; the replies are the first frames a new listener gets.' : undefined,
        messages: [this.inChannel(key, `${op}.${key}`)],
        reply: { channel, messages: this.answers(key, op === 'listen' ? replies : []) },
      });
    }
    if (pushes.length > 0) {
      this.operations[`push.${key}`] = {
        action: 'send',
        channel,
        title: `Pushes to ${pattern}`,
        summary: `What every listener of \`${pattern}\` gets (\`PushService.toChannel\`).`,
        messages: pushes.map((command) => this.serverFrame(key, command)),
      };
    }
  }

  /** The replies of a request, then the notices that answer it in either mode. */
  private answers(channel: string, replies: readonly string[]): AsyncApiReference[] {
    return [...replies.map((command) => this.serverFrame(channel, command)), this.inChannel(channel, ACKNOWLEDGEMENT), this.inChannel(channel, NOTICE)];
  }

  private serverFrame(channel: string, command: string): AsyncApiReference {
    return this.inChannel(channel, `server.${this.frameKeys.of(command)}`);
  }

  /** Puts a message of the components on a channel, and refers to it there, as an operation must. */
  private inChannel(channel: string, message: string): AsyncApiReference {
    const messages = this.channels[channel].messages as Record<string, AsyncApiReference>;
    messages[message] ??= reference('components', 'messages', message);
    return reference('channels', channel, 'messages', message);
  }

  private note(frames: readonly FrameDeclaration[] | undefined, { owner, declaration }: DeclaredHandler): string[] {
    const name = { command: 'Command', channel: 'ListenChannel', leave: 'LeaveChannel', open: 'OnOpen', close: 'OnClose' }[declaration.kind];
    const argument = declaration.kind === 'command' ? declaration.command : declaration.kind === 'channel' ? declaration.pattern : '';
    return this.frames.note(frames, `@${name}(${argument && JSON.stringify(argument)}) on ${owner}`);
  }
}

/** The history and presence of a channel, as extensions and in words. */
function features({ history, presence }: ListenChannelOptions): { extensions: Partial<AsyncApiChannel>; notes: string[] } {
  const extensions: { -readonly [K in keyof AsyncApiChannel]?: AsyncApiChannel[K] } = {};
  const notes: string[] = [];
  if (history) {
    extensions['x-easy-ws-history'] = { size: history.size, ttl: history.ttl };
    notes.push(`It keeps a history of its pushes (size ${history.size}, ttl ${history.ttl}).`);
  }
  if (presence) {
    extensions['x-easy-ws-presence'] = true;
    notes.push('It tracks who listens (presence).');
  }
  return { extensions, notes };
}
