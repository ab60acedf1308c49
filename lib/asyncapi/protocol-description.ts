import type { ResolvedEndpointOptions } from '../endpoint/endpoint-options.js';
import { REFUSALS } from '../endpoint/handshake.js';
import type { PatternSegment } from '../handlers/channel-matcher.js';
import type { JsonSchema } from '../handlers/interfaces/handler-documentation.interface.js';
import { CLOSE_CODES, NORMAL_CLOSURE } from '../protocol/close-codes.js';
import { NOTICES } from '../protocol/notices.js';
import {
  ACKNOWLEDGED_SUBPROTOCOL,
  type Acknowledgement,
  type ControlRequest,
  LEGACY_SUBPROTOCOL,
  MAX_CHANNEL_BYTES,
  NOTICE_COMMAND,
  type ServerEvent,
} from '../protocol/rules.js';
import type { AsyncApiChannel, AsyncApiCloseCode, AsyncApiMessage } from './interfaces/asyncapi-document.interface.js';

/**
 * The parts of the document that are the protocol's own and the same for every
 * application (the handshake, notices, acknowledgements, listen and unlisten, close
 * codes), written from the protocol's constants so that they cannot drift from it.
 */

/** The endpoint options the document describes. */
export type DescribedEndpoint = Pick<
  ResolvedEndpointOptions,
  'path' | 'token' | 'authenticate' | 'allowedOrigins' | 'maxConnections' | 'maxConnectionsPerToken' | 'maxPayload' | 'maxChannelsPerSession' | 'rateLimit'
>;

const NOTICE_TEXTS = Object.values(NOTICES);

/** Every `op` of an acknowledgement; the type makes a new one a compile error until it is listed. */
const ACKNOWLEDGED_OPS = Object.keys({ listen: 0, unlisten: 0, recover: 0, presence: 0, refresh: 0, command: 0, frame: 0, open: 0 } satisfies Record<Acknowledgement['op'], 0>);

/** Every `op` of a request of acknowledged mode, checked by the type like the above. */
const REQUEST_OPS = Object.keys({ listen: 0, recover: 0, presence: 0, refresh: 0 } satisfies Record<ControlRequest['op'], 0>);

/** Every `event` the server tells a client of acknowledged mode, checked by the type like the above. */
const EVENTS = Object.keys({ position: 0, dropped: 0, presence: 0, expiring: 0, left: 0 } satisfies Record<ServerEvent['event'], 0>);

const POSITION_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['epoch', 'offset'],
  properties: { epoch: { type: 'string' }, offset: { type: 'integer', minimum: 0 } },
  description: "A place in a channel's history: an offset under an epoch.",
};

const MEMBERS_SCHEMA: JsonSchema = {
  type: 'array',
  items: { type: 'object', required: ['sessionId'], properties: { sessionId: { type: 'string' }, info: { description: "What the channel's `info` said of the member." } } },
};

/** A notice in the original protocol: `websocket: <text>`. */
export const NOTICE_MESSAGE: AsyncApiMessage = {
  name: NOTICE_COMMAND,
  title: 'Notice (original protocol)',
  summary: 'A failure the server reports to a client of the original protocol.',
  description:
    `Sent as \`${NOTICE_COMMAND}: <text>\` to a client that did not choose \`${ACKNOWLEDGED_SUBPROTOCOL}\`. The texts are fixed, ` +
    `because clients match on them: ${NOTICE_TEXTS.map((text) => `\`${text}\``).join(', ')}; a handler's \`WsException\` sends its own message.`,
  contentType: 'text/plain',
  payload: { type: 'string', examples: NOTICE_TEXTS },
};

/** An answer in acknowledged mode: `websocket: {"op":…,"ok":…}`. */
export const ACKNOWLEDGEMENT_MESSAGE: AsyncApiMessage = {
  name: NOTICE_COMMAND,
  title: `Acknowledgement (${ACKNOWLEDGED_SUBPROTOCOL})`,
  summary: 'The answer to a listen or unlisten, or a failure naming what it answers, in acknowledged mode.',
  description:
    `Sent as \`${NOTICE_COMMAND}: <JSON>\` to a client that chose \`${ACKNOWLEDGED_SUBPROTOCOL}\`: every listen and unlisten ` +
    'gets exactly one, `ok` true or false; a failed command or frame gets one with `ok: false`. The keys come in the order listed.',
  contentType: 'application/json',
  payload: {
    type: 'object',
    required: ['op', 'ok'],
    additionalProperties: false,
    properties: {
      op: { type: 'string', enum: ACKNOWLEDGED_OPS, description: 'What it answers: `frame` is a frame with no command, `open` the open hook.' },
      channel: { type: 'string', description: 'The channel, for `listen` and `unlisten`.' },
      command: { type: 'string', description: 'The command, for `command`.' },
      ok: { type: 'boolean' },
      error: { type: 'string', description: 'The notice text, when `ok` is false.', examples: NOTICE_TEXTS },
      position: { ...POSITION_SCHEMA, description: 'A listen of a channel with history, or a recover: where the stream goes on from.' },
      recovered: { type: 'boolean', description: 'A listen with `since`, or a recover: whether every missed frame was sent again.' },
      missed: { type: 'integer', minimum: 0, description: 'A listen with `since`, or a recover: how many frames were missed.' },
      members: { ...MEMBERS_SCHEMA, description: 'A listen of a channel with presence, or a presence request: the members now.' },
      expiresAt: { type: 'integer', description: 'A refresh: when the new token expires, in milliseconds since the epoch.' },
    },
  },
};

/** A request of acknowledged mode: `websocket: {"op":…}` from the client. */
export const REQUEST_MESSAGE: AsyncApiMessage = {
  name: NOTICE_COMMAND,
  title: `Request (${ACKNOWLEDGED_SUBPROTOCOL})`,
  summary: 'A listen that tracks positions and presence (perhaps from a position), a recover, a presence request, or a token refresh.',
  description:
    `Sent as \`${NOTICE_COMMAND}: <JSON>\` by a client that chose \`${ACKNOWLEDGED_SUBPROTOCOL}\`; answered with one acknowledgement. ` +
    'Anything else after `websocket: ` is answered as a command nobody handles.',
  contentType: 'application/json',
  payload: {
    type: 'object',
    required: ['op'],
    properties: {
      op: { type: 'string', enum: REQUEST_OPS },
      channel: { type: 'string', description: `The channel, 1 to ${MAX_CHANNEL_BYTES} bytes, for \`listen\`, \`recover\` and \`presence\`.` },
      since: { ...POSITION_SCHEMA, description: 'For `listen` (optional) and `recover`: the frames after it are sent again.' },
      token: { type: 'string', description: 'For `refresh`: the new token.' },
    },
  },
};

/** What the server tells a client of acknowledged mode of its own accord: `websocket: {"event":…}`. */
export const EVENT_MESSAGE: AsyncApiMessage = {
  name: NOTICE_COMMAND,
  title: `Event (${ACKNOWLEDGED_SUBPROTOCOL})`,
  summary: 'The position of the next frame, frames dropped, who joined and left, a token about to expire, a channel left.',
  description:
    `Sent as \`${NOTICE_COMMAND}: <JSON>\` with \`event\` and never \`ok\`. \`position\`, \`dropped\` and \`presence\` go only to ` +
    'clients that listened with a listen request; `expiring` and `left` to every client of the mode.',
  contentType: 'application/json',
  payload: {
    type: 'object',
    required: ['event'],
    properties: {
      event: { type: 'string', enum: EVENTS },
      channel: { type: 'string' },
      epoch: { type: 'string', description: '`position`, `dropped`: the epoch of the offset.' },
      offset: { type: 'integer', minimum: 1, description: '`position`: the offset of the frame that follows; `dropped`: of the last frame dropped.' },
      joins: { ...MEMBERS_SCHEMA, description: '`presence`: who joined.' },
      leaves: { ...MEMBERS_SCHEMA, description: '`presence`: who left (apply them first).' },
      expiresAt: { type: 'integer', description: '`expiring`: when the token expires, in milliseconds since the epoch.' },
      reason: { type: 'string', description: '`left`: why, never the guard\'s reason.' },
    },
  },
};

/** The close reasons and occasions of the codes the server chooses; the type makes a new code a compile error until it is described. */
const SERVER_CLOSES = {
  goingAway: { reason: 'server shutting down', when: 'The server is stopping (`server not ready` for a connection it was not ready for yet).' },
  policyViolation: {
    reason: 'rate limit exceeded',
    when: 'The client kept sending over the rate limit; or an open hook refused the session, with the notice text as reason.',
  },
  internalError: { reason: 'internal server error', when: 'An open hook failed unexpectedly, or the session could not be set up.' },
  slowConsumer: { reason: 'slow consumer', when: '`maxBufferedBytes` were waiting for the client under the `close` policy.' },
  tokenExpired: { reason: 'token expired', when: "The session's token expired without a refresh, or a refresh was refused." },
} satisfies Record<keyof typeof CLOSE_CODES, Omit<AsyncApiCloseCode, 'code'>>;

/** The close codes a client of this endpoint may see, by code. */
export function closeCodes(endpoint: DescribedEndpoint): AsyncApiCloseCode[] {
  const server = Object.entries(SERVER_CLOSES).map(([name, close]) => ({ code: CLOSE_CODES[name as keyof typeof CLOSE_CODES], ...close }));
  return [
    { code: NORMAL_CLOSURE, reason: "(the application's)", when: 'The application closed the session without an error (`PushService.disconnect`).' },
    ...server,
    { code: 1002, reason: '', when: 'The client broke the WebSocket framing.' },
    { code: 1007, reason: '', when: 'A text frame was not valid UTF-8.' },
    { code: 1009, reason: '', when: `A frame was larger than ${endpoint.maxPayload} bytes (\`maxPayload\`).` },
  ].sort((a, b) => a.code - b.code);
}

/** Where the token is read, in words. */
function tokenWhere(endpoint: DescribedEndpoint): string {
  const { token } = endpoint;
  if (typeof token === 'function') {
    return 'read from the upgrade request by a function of the application';
  }
  if ('cookie' in token) {
    return `the cookie \`${token.cookie}\``;
  }
  return 'header' in token ? `the header \`${token.header}\`` : `the query parameter \`${token.query}\``;
}

/** The handshake, in words: subprotocols, the token, the refusals this endpoint's options can give. */
export function handshakeDescription(endpoint: DescribedEndpoint): string {
  const refusal = ({ status, body }: { status: number; body: string }, when: string): string => `- **${status}** \`${body.trim()}\`: ${when}`;
  const refusals = [
    endpoint.allowedOrigins && refusal(REFUSALS.origin, 'a browser page of an origin that is not allowed.'),
    endpoint.authenticate && refusal(REFUSALS.authentication, 'no token, or a token the application refuses.'),
    endpoint.authenticate && refusal(REFUSALS.timeout, 'the application did not check the token in time.'),
    (endpoint.maxConnections ?? endpoint.maxConnectionsPerToken) !== undefined && refusal(REFUSALS.limit, 'the connection limit is reached.'),
    refusal(REFUSALS.shutdown, 'the server is stopping.'),
  ].filter((line): line is string => typeof line === 'string');
  return [
    `A WebSocket upgrade (\`GET ${endpoint.path}\`). Offer the subprotocol \`${ACKNOWLEDGED_SUBPROTOCOL}\` for acknowledged mode ` +
      `(every listen and unlisten answered, notices as JSON naming what they answer; preferred when offered), or ` +
      `\`${LEGACY_SUBPROTOCOL}\` (or none) for the original protocol, byte for byte that of go-easy-websocket.`,
    `The token is ${tokenWhere(endpoint)}; ${
      endpoint.authenticate ? 'the application checks it before the upgrade.' : 'it is not checked: every connection is accepted.'
    }`,
    `Refused upgrades get an HTTP answer and no socket:\n\n${refusals.join('\n')}`,
  ].join('\n\n');
}

/** The token as a security scheme, when the options say where it is. */
export function tokenScheme(endpoint: DescribedEndpoint): JsonSchema | undefined {
  const { token } = endpoint;
  if (typeof token === 'function') {
    return undefined;
  }
  const [where, name] = Object.entries(token)[0] as ['cookie' | 'header' | 'query', string];
  return { type: 'httpApiKey', in: where, name, description: `The token, ${tokenWhere(endpoint)}.` };
}

/** The handshake as the WebSockets binding describes it: the subprotocol header, and the token's header or query parameter. */
export function handshakeBinding(endpoint: DescribedEndpoint): NonNullable<AsyncApiChannel['bindings']> {
  const { token } = endpoint;
  const tokenProperty = (name: string) => ({ [name]: { type: 'string', description: 'The token.' } });
  const headers = {
    type: 'object',
    properties: {
      'Sec-WebSocket-Protocol': {
        type: 'string',
        description: `\`${ACKNOWLEDGED_SUBPROTOCOL}\` for acknowledged mode, \`${LEGACY_SUBPROTOCOL}\` (or none) for the original protocol.`,
        examples: [ACKNOWLEDGED_SUBPROTOCOL, LEGACY_SUBPROTOCOL],
      },
      ...(typeof token === 'object' && 'header' in token && tokenProperty(token.header)),
    },
  };
  const query = typeof token === 'object' && 'query' in token ? { type: 'object', properties: tokenProperty(token.query) } : undefined;
  return { ws: { method: 'GET', headers, ...(query && { query }), bindingVersion: '0.1.0' } };
}

/** The frames in the connection's own words, for the description of its channel. */
export function connectionDescription(endpoint: DescribedEndpoint): string {
  const rateLimit = endpoint.rateLimit
    ? ` At most ${endpoint.rateLimit.framesPerSecond} frames a second (bursts of ${endpoint.rateLimit.burst}); a frame over the limit gets the notice \`${NOTICES.rateLimited}\`.`
    : '';
  return (
    'The connection itself. Every frame is a text frame `<command>: <data>` (a binary frame when the data is bytes), ' +
    `at most ${endpoint.maxPayload} bytes; frames are handled one at a time, in order. A session listens to at most ` +
    `${endpoint.maxChannelsPerSession} channels.${rateLimit} The close codes a client may see are listed in \`x-easy-ws-close-codes\`.`
  );
}

/** The regular expression of the channel names a pattern matches. */
function namePattern(segments: readonly PatternSegment[]): string {
  return `^${segments.map((segment) => ('literal' in segment ? segment.literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : '[^/]+')).join('/')}$`;
}

/** `listen: <channel>` or `unlisten: <channel>` for the channels of one pattern. */
export function channelRequestMessage(
  op: 'listen' | 'unlisten',
  pattern: string,
  segments: readonly PatternSegment[],
): AsyncApiMessage {
  const does = op === 'listen' ? 'Starts listening to' : 'Stops listening to';
  return {
    name: op,
    title: `${op} ${pattern}`,
    summary: `${does} a channel of \`${pattern}\`.`,
    description: `Sent as \`${op}: <channel>\`.`,
    contentType: 'text/plain',
    payload: { type: 'string', pattern: namePattern(segments), description: `The channel name, 1 to ${MAX_CHANNEL_BYTES} bytes.` },
  };
}
