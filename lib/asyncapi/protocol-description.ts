import type { ResolvedEndpointOptions } from '../endpoint/endpoint-options.js';
import { REFUSALS } from '../endpoint/handshake.js';
import type { PatternSegment } from '../handlers/channel-matcher.js';
import type { JsonSchema } from '../handlers/interfaces/handler-documentation.interface.js';
import { CLOSE_CODES, NORMAL_CLOSURE } from '../protocol/close-codes.js';
import { NOTICES } from '../protocol/notices.js';
import { ACKNOWLEDGED_SUBPROTOCOL, type Acknowledgement, LEGACY_SUBPROTOCOL, MAX_CHANNEL_BYTES, NOTICE_COMMAND } from '../protocol/rules.js';
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
const ACKNOWLEDGED_OPS = Object.keys({ listen: 0, unlisten: 0, command: 0, frame: 0, open: 0 } satisfies Record<Acknowledgement['op'], 0>);

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
