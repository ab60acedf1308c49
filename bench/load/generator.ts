/**
 * The load generator: a child process of the bench runner, pinned to its own core.
 * It opens raw WebSocket connections to one server at a time and runs the round-trip
 * and fan-out scenarios the runner asks for.
 */
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { io } from 'socket.io-client';
import { WebSocket } from 'ws';
import { answerRequests } from '../rpc.js';
import { cpuMilliseconds, openFileLimit } from '../limits.js';
import { SERVERS, type Dialect, type ServerName } from '../wire.js';
import { clientFrame, isMessage, RawClient } from './raw-client.js';

/** How many connections are opened at the same time; more would overflow the accept backlog. */
const CONNECT_CONCURRENCY = 128;
/** Connections per source address, well below the ports one address has (32768–60999 by default). */
const CONNECTIONS_PER_ADDRESS = 20_000;
/** A scenario that has not finished by then has failed: the bench stays bounded in time. */
const SCENARIO_TIMEOUT_MS = 60_000;

/** A dialect's frames, encoded once. */
class Wire {
  readonly echoReply: Buffer;
  readonly listenReply: Buffer;
  readonly delivery: Buffer;
  readonly listenRequest: Buffer;
  /** `echoRequests[k]`: k echo requests in one write. */
  readonly echoRequests: Buffer[] = [];
  private readonly pong = clientFrame('3');

  constructor(readonly dialect: Dialect) {
    this.echoReply = Buffer.from(dialect.echoReply);
    this.listenReply = Buffer.from(dialect.listenReply);
    this.delivery = Buffer.from(dialect.delivery);
    this.listenRequest = clientFrame(dialect.listenRequest);
  }

  echoFrames(count: number): Buffer {
    const single = clientFrame(this.dialect.echoRequest);
    for (let k = this.echoRequests.length; k <= count; k++) {
      this.echoRequests[k] = Buffer.concat(Array.from({ length: k }, () => single));
    }
    return this.echoRequests[count];
  }

  /** Answers engine.io's heartbeat; true when the message was one. */
  keepAlive(client: RawClient, data: Buffer, start: number, end: number): boolean {
    if (this.dialect.socketIo && end - start === 1 && data[start] === 0x32) {
      client.write(this.pong);
      return true;
    }
    return false;
  }
}

/** Opens one connection and completes the dialect's own greeting (socket.io's namespace connect). */
async function openConnection(port: number, wire: Wire, localAddress?: string): Promise<RawClient> {
  const client = await RawClient.open(port, wire.dialect.path, wire.dialect.subprotocol, localAddress);
  if (!wire.dialect.socketIo) {
    return client;
  }
  await new Promise<void>((resolve, reject) => {
    client.onMessage = (data, start, end) => {
      if (data[start] === 0x30 && data[start + 1] === 0x7b) {
        // "0{...}" is engine.io's open packet: join the default namespace
        client.write(clientFrame('40'));
      } else if (data[start] === 0x34 && data[start + 1] === 0x30) {
        resolve();
      } else if (!wire.keepAlive(client, data, start, end)) {
        reject(new Error(`unexpected frame during the socket.io handshake: ${data.toString('utf8', start, end)}`));
      }
    };
  });
  return client;
}

/**
 * The loopback address connection `index` of `count` comes from: beyond
 * `CONNECTIONS_PER_ADDRESS`, they are spread over 127.0.0.2, 127.0.0.3, …, as one
 * source address has ports for some 28,000 connections to one server.
 */
function sourceAddress(index: number, count: number): string | undefined {
  return count <= CONNECTIONS_PER_ADDRESS ? undefined : `127.0.0.${2 + (index % Math.ceil(count / CONNECTIONS_PER_ADDRESS))}`;
}

/** Opens `count` connections, a few at a time; if one fails, those opened are closed again and the failure is thrown. */
async function openMany(port: number, wire: Wire, count: number): Promise<RawClient[]> {
  const clients: RawClient[] = [];
  let started = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (started < count && !failed) {
      const index = started++;
      clients.push(await openConnection(port, wire, sourceAddress(index, count)));
    }
  };
  const workers = await Promise.allSettled(Array.from({ length: Math.min(CONNECT_CONCURRENCY, count) }, () => worker().catch((error: unknown) => {
    failed = true;
    throw error;
  })));
  const failure = workers.find((outcome) => outcome.status === 'rejected');
  if (failure) {
    clients.forEach((client) => client.destroy());
    throw new Error(`opening ${count} connections failed after ${clients.length}: ${(failure.reason as Error)?.message ?? failure.reason}`);
  }
  return clients;
}

function withTimeout<T>(promise: Promise<T>, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what()}`)), SCENARIO_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function percentile(sorted: Float64Array, fraction: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}

/** The result of one round-trip window. */
export interface RoundTripResult {
  /** Round trips completed in the measured window. */
  readonly count: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly generatorCpuPercent: number;
}

/** Connections to one server, kept open across round-trip windows. */
interface ClientGroup {
  readonly server: ServerName;
  readonly wire: Wire;
  readonly clients: RawClient[];
}

const groups = new Map<string, ClientGroup>();
let roundTripResult: Promise<RoundTripResult> | undefined;

/** Opens `count` connections to `server` under the name `group`; they stay idle until round trips start. */
async function openGroup(args: { group: string; port: number; server: ServerName; count: number }): Promise<void> {
  const current = new Wire(SERVERS[args.server].dialect);
  const opened = await openMany(args.port, current, args.count);
  for (const client of opened) {
    client.onMessage = (data, start, end) => current.keepAlive(client, data, start, end);
  }
  groups.set(args.group, { server: args.server, wire: current, clients: opened });
}

function closeGroup(args: { group: string }): void {
  for (const client of groups.get(args.group)?.clients ?? []) {
    client.destroy();
  }
  groups.delete(args.group);
}

/**
 * Starts round trips on a group: each client keeps `inFlight` echo requests
 * outstanding (replies come back in order). Resolves when the measured window
 * begins, after the warm-up, so that the runner can read the server's CPU time
 * for the same window. The result comes once the window has ended and every
 * request still in flight has been answered, so the group is idle again.
 */
async function startRoundTrips(args: { group: string; inFlight: number; warmupMs: number; measureMs: number }): Promise<void> {
  const group = groups.get(args.group);
  if (!group) {
    throw new Error(`no connections named ${args.group}`);
  }
  const { wire: current, clients } = group;
  let measuring = false;
  let stopped = false;
  let latencies = new Float64Array(1 << 20);
  let samples = 0;
  let unexpected = 0;
  let outstanding = clients.length * args.inFlight;
  let onIdle: (() => void) | undefined;
  for (const client of clients) {
    const sentAt = new Float64Array(args.inFlight);
    let oldest = 0;
    client.onMessage = (data, start, end) => {
      if (!isMessage(current.echoReply, data, start, end)) {
        if (!current.keepAlive(client, data, start, end)) {
          unexpected++;
        }
        return;
      }
      const now = performance.now();
      if (measuring) {
        if (samples === latencies.length) {
          const grown = new Float64Array(latencies.length * 2);
          grown.set(latencies);
          latencies = grown;
        }
        latencies[samples++] = now - sentAt[oldest];
      }
      if (!stopped) {
        sentAt[oldest] = now;
        client.write(current.echoFrames(1));
      } else if (--outstanding === 0) {
        onIdle?.();
      }
      oldest = (oldest + 1) % args.inFlight;
    };
    sentAt.fill(performance.now());
    client.write(current.echoFrames(args.inFlight));
  }
  await new Promise((resolve) => setTimeout(resolve, args.warmupMs));
  measuring = true;
  const startedAt = performance.now();
  const cpuAtStart = cpuMilliseconds();
  roundTripResult = new Promise((resolve) => setTimeout(resolve, args.measureMs)).then(async () => {
    measuring = false;
    stopped = true;
    const elapsed = performance.now() - startedAt;
    const cpu = cpuMilliseconds() - cpuAtStart;
    const idle = new Promise<void>((resolve) => {
      onIdle = resolve;
    });
    await withTimeout(idle, () => `${outstanding} requests to ${group.server} still unanswered`);
    if (unexpected > 0) {
      throw new Error(`${unexpected} unexpected frames from ${group.server}`);
    }
    const sorted = latencies.subarray(0, samples).sort();
    return {
      count: samples,
      perSecond: (samples / elapsed) * 1000,
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
      generatorCpuPercent: (cpu / elapsed) * 100,
    };
  });
}

/** The result of the round trips started last. */
function roundTrips(): Promise<RoundTripResult> {
  if (!roundTripResult) {
    throw new Error('start round trips first');
  }
  return roundTripResult;
}

/** Fan-out state: connections (the first `listening` of them listen) and one control connection. */
let clients: RawClient[] = [];
let wire: Wire | undefined;
let control: RawClient | undefined;
let listening = 0;
let received = 0;
let expected = 0;
let unexpectedDeliveries = 0;
let onAllReceived: (() => void) | undefined;
let acks = 0;
let onAllAcked: (() => void) | undefined;
/** Pings the connections received, in all. */
let pings = 0;
/** The heartbeat round being waited for, and the round in which each connection was last pinged. */
let round = 0;
let pingedIn = new Int32Array(0);
let pingedThisRound = 0;
let onRoundDone: (() => void) | undefined;

/** Opens `count` idle connections (and a control connection) for the fan-out scenarios. */
async function connect(args: { port: number; server: ServerName; count: number }): Promise<number> {
  wire = new Wire(SERVERS[args.server].dialect);
  const current = wire;
  clients = await openMany(args.port, current, args.count);
  [control] = await openMany(args.port, current, 1);
  listening = 0;
  pingedIn = new Int32Array(clients.length);
  clients.forEach((client, index) => {
    client.onPing = () => {
      pings++;
      if (pingedIn[index] !== round) {
        pingedIn[index] = round;
        if (++pingedThisRound === clients.length) {
          onRoundDone?.();
        }
      }
    };
  });
  for (const client of [...clients, control]) {
    client.onMessage = (data, start, end) => {
      if (isMessage(current.delivery, data, start, end)) {
        if (++received === expected) {
          onAllReceived?.();
        }
      } else if (isMessage(current.listenReply, data, start, end)) {
        if (--acks === 0) {
          onAllAcked?.();
        }
      } else if (!current.keepAlive(client, data, start, end)) {
        unexpectedDeliveries++;
      }
    };
  }
  return clients.length;
}

/** Makes the first `count` connections listen, and waits until the server acknowledged each. */
async function listen(args: { count: number }): Promise<void> {
  const current = wire;
  if (!current || args.count > clients.length) {
    throw new Error(`cannot make ${args.count} of ${clients.length} connections listen`);
  }
  const done = new Promise<void>((resolve) => {
    onAllAcked = resolve;
  });
  acks = args.count - listening;
  for (; listening < args.count; listening++) {
    clients[listening].write(current.listenRequest);
  }
  if (acks > 0) {
    await withTimeout(done, () => `${acks} listens not acknowledged`);
  }
}

/**
 * Resolves once the server has pinged every connection since the call: the end of a
 * whole heartbeat round (the next one, if a round is under way).
 */
async function heartbeatRound(): Promise<void> {
  round++;
  pingedThisRound = 0;
  const done = new Promise<void>((resolve) => {
    onRoundDone = resolve;
  });
  await withTimeout(done, () => `only ${pingedThisRound} of ${clients.length} connections were pinged`);
}

/**
 * Asks for `pushes` pushes to the channel; resolves with the milliseconds until every
 * listener had every one, the generator's CPU time meanwhile, and how many pings
 * arrived meanwhile (a heartbeat round that overlapped the burst).
 */
async function burst(args: { pushes: number }): Promise<{ ms: number; generatorCpuMs: number; pings: number }> {
  if (!wire || !control) {
    throw new Error('connect first');
  }
  received = 0;
  expected = listening * args.pushes;
  const done = new Promise<void>((resolve) => {
    onAllReceived = resolve;
  });
  const cpuAtStart = cpuMilliseconds();
  const pingsAtStart = pings;
  const startedAt = performance.now();
  control.write(clientFrame(wire.dialect.burstRequest(args.pushes)));
  await withTimeout(done, () => `${received} of ${expected} deliveries arrived`);
  const ms = performance.now() - startedAt;
  if (unexpectedDeliveries > 0) {
    throw new Error(`${unexpectedDeliveries} unexpected frames during fan-out`);
  }
  return { ms, generatorCpuMs: cpuMilliseconds() - cpuAtStart, pings: pings - pingsAtStart };
}

function closeAll(): void {
  for (const client of clients) {
    client.destroy();
  }
  control?.destroy();
  clients = [];
  control = undefined;
  listening = 0;
}

/**
 * Checks with a real client of the server's kind (`ws`, or `socket.io-client`) that the
 * server answers the echo request with the reply the raw clients count, so that the raw
 * clients measure the exchange a real application would see.
 */
async function verify(args: { port: number; server: ServerName }): Promise<void> {
  const { dialect } = SERVERS[args.server];
  if (dialect.socketIo) {
    const client = io(`http://127.0.0.1:${args.port}`, { transports: ['websocket'], reconnection: false });
    try {
      await withTimeout(new Promise((resolve) => client.once('connect', () => resolve(undefined))), () => 'socket.io did not connect');
      const [event, data] = JSON.parse(dialect.echoRequest.slice(2)) as [string, string];
      const reply = new Promise((resolve) => client.once(event, resolve));
      client.emit(event, data);
      const echoed = await withTimeout(reply, () => 'no echo from socket.io');
      if (`42${JSON.stringify([event, echoed])}` !== dialect.echoReply) {
        throw new Error(`socket.io echoed ${JSON.stringify(echoed)}`);
      }
    } finally {
      client.close();
    }
    return;
  }
  const socket = new WebSocket(`ws://127.0.0.1:${args.port}${dialect.path}`, dialect.subprotocol ? [dialect.subprotocol] : []);
  try {
    await once(socket, 'open');
    socket.send(dialect.echoRequest);
    const [reply] = await withTimeout(once(socket, 'message'), () => `no echo from ${args.server}`);
    if (String(reply) !== dialect.echoReply) {
      throw new Error(`${args.server} echoed ${String(reply)}`);
    }
  } finally {
    socket.close();
  }
}

answerRequests({
  verify,
  limits: () => ({ openFiles: openFileLimit() }),
  openGroup,
  closeGroup,
  startRoundTrips,
  roundTrips,
  connect,
  listen,
  heartbeatRound,
  burst,
  closeAll,
});
