/**
 * What the load generator and the bench servers say to each other, frame by frame.
 * Every server answers the same three requests (echo, listen, burst) in its own
 * framing, with the same 64-byte payload.
 */

/** The data of every echo and every push: 64 bytes. */
export const PAYLOAD = '0123456789abcdef'.repeat(4);

/** The channel every listener listens to. */
export const CHANNEL = 'news';

/** The answer to a `listen` in acknowledged mode; the bare `ws` server sends the same bytes. */
export const LISTEN_ACK = `websocket: {"op":"listen","channel":"${CHANNEL}","ok":true}`;

/** How one kind of server frames the bench's requests and answers. */
export interface Dialect {
  /** The WebSocket path. */
  readonly path: string;
  /** The subprotocol to offer, if any. */
  readonly subprotocol?: string;
  /** Whether the connection speaks socket.io over engine.io (open packet, namespace connect, pings). */
  readonly socketIo: boolean;
  readonly echoRequest: string;
  readonly echoReply: string;
  readonly listenRequest: string;
  readonly listenReply: string;
  /** Asks the server to push `pushes` frames to the channel, one after the other. */
  burstRequest(pushes: number): string;
  /** One push, as a listener receives it. */
  readonly delivery: string;
}

/** `command: data` frames: our protocol, spoken by our module and by the bare `ws` server. */
const commandProtocol: Dialect = {
  path: '/ws',
  subprotocol: 'easy-ws.v1',
  socketIo: false,
  echoRequest: `echo: ${PAYLOAD}`,
  echoReply: `echo: ${PAYLOAD}`,
  listenRequest: `listen: ${CHANNEL}`,
  listenReply: LISTEN_ACK,
  burstRequest: (pushes) => `burst: ${pushes}`,
  delivery: `${CHANNEL}: ${PAYLOAD}`,
};

/** `{"event","data"}` JSON frames: a Nest gateway on `@nestjs/platform-ws`. */
const nestJson: Dialect = {
  path: '/ws',
  socketIo: false,
  echoRequest: JSON.stringify({ event: 'echo', data: PAYLOAD }),
  echoReply: JSON.stringify({ event: 'echo', data: PAYLOAD }),
  listenRequest: JSON.stringify({ event: 'listen', data: CHANNEL }),
  listenReply: JSON.stringify({ event: 'listening', data: CHANNEL }),
  burstRequest: (pushes) => JSON.stringify({ event: 'burst', data: pushes }),
  delivery: JSON.stringify({ event: CHANNEL, data: PAYLOAD }),
};

/** socket.io event packets (`42[...]`) over a WebSocket-only engine.io connection. */
const socketIo: Dialect = {
  path: '/socket.io/?EIO=4&transport=websocket',
  socketIo: true,
  echoRequest: `42${JSON.stringify(['echo', PAYLOAD])}`,
  echoReply: `42${JSON.stringify(['echo', PAYLOAD])}`,
  listenRequest: `42${JSON.stringify(['listen', CHANNEL])}`,
  listenReply: `42${JSON.stringify(['listening', CHANNEL])}`,
  burstRequest: (pushes) => `42${JSON.stringify(['burst', pushes])}`,
  delivery: `42${JSON.stringify([CHANNEL, PAYLOAD])}`,
};

/** The servers the bench starts, each its own process. */
export const SERVERS = {
  ours: { label: 'nestjs-easy-ws', script: 'easy-ws.server.js', args: [], dialect: commandProtocol },
  oursMetrics: { label: 'nestjs-easy-ws, metrics on', script: 'easy-ws.server.js', args: ['--module-options', '{"metrics":true}'], dialect: commandProtocol },
  bareBest: { label: 'bare ws, pre-framed + corked', script: 'bare-ws.server.js', args: ['preframed-corked'], dialect: commandProtocol },
  bareSend: { label: 'bare ws, ws.send', script: 'bare-ws.server.js', args: ['send'], dialect: commandProtocol },
  platformWs: { label: 'Nest gateway, platform-ws', script: 'platform-ws.server.js', args: [], dialect: nestJson },
  socketIo: { label: 'Nest gateway, socket.io', script: 'socket-io.server.js', args: [], dialect: socketIo },
} as const satisfies Record<string, { label: string; script: string; args: readonly string[]; dialect: Dialect }>;

/** One of the servers above. */
export type ServerName = keyof typeof SERVERS;
