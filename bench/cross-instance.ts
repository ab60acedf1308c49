/**
 * Cross-instance push: how many frames a second `RedisBroker` carries from one app
 * instance to listeners on another, next to what Redis itself carries between two
 * processes (a plain ioredis loop publishing the same bytes, pipelined: the ceiling),
 * and next to the in-process broker; with each priced feature on, next to plain.
 *
 *   npm run build && node dist/bench/cross-instance.js
 *
 * Each instance runs in a process of its own (`cross-instance-server.ts`), and so does
 * the ceiling's publisher (`redis-ceiling.ts`); this process is the load generator and
 * holds the listeners, and the ceiling's subscriber. `REDIS_URL` (default
 * redis://127.0.0.1:6379) names the Redis; the run uses a channel prefix of its own.
 * Two phases per scenario: a flood (pushes as fast as they are answered, a fixed number
 * in flight) for throughput, then a fixed rate well below it for the latency of an
 * unloaded push.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { ACKNOWLEDGED_SUBPROTOCOL } from 'nestjs-easy-ws';
import { BENCH_CHANNEL, type CeilingRequest, now, type PushRequest, type ServerReport } from './cross-instance-protocol.js';
import { PRICED_FEATURES } from './features.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const LISTENERS = 20;
/** Pushes (or publishes) outstanding during a flood, for our instances and the ceiling alike. */
const IN_FLIGHT = 1024;
const FLOOD = { mode: 'flood', durationMs: 3000, inFlight: IN_FLIGHT } as const satisfies PushRequest;
const PACED = { mode: 'paced', durationMs: 2000, rate: 500 } as const satisfies PushRequest;
/** Channel pushes through the RedisBroker, as a share of the ceiling. */
const TARGET = 0.8;
/** How long the listeners may take to receive the last frames after the pushes are done. */
const DRAIN_MS = 10_000;
/** The whole run stops here, whatever state it is in. */
const DEADLINE_MS = 100_000;
const TICK_PREFIX_BYTES = Buffer.byteLength('tick: ');

/** A bench process forked from this one, answering over IPC. */
class Forked {
  private constructor(
    private readonly child: ChildProcess,
    /** What it said once it was ready. */
    readonly ready: ServerReport,
  ) {}

  static async start(script: string, env: Record<string, string>): Promise<Forked> {
    const child = fork(new URL(script, import.meta.url), [], { env: { ...process.env, ...env } });
    running.add(child);
    const [report] = (await Promise.race([once(child, 'message'), once(child, 'exit').then(() => [undefined])])) as [ServerReport | undefined];
    if (!report) {
      throw new Error(`${script} did not start`);
    }
    return new Forked(child, report);
  }

  /** Sends `request`; resolves with the pushes it made. */
  async push(request: PushRequest | CeilingRequest): Promise<{ pushed: number; failed: number }> {
    const answer = once(this.child, 'message');
    this.child.send(request);
    const [report] = (await answer) as [ServerReport];
    if (!('pushed' in report)) {
      throw new Error('unexpected answer from a benchmark process');
    }
    return report;
  }

  /** Ends the process: it closes what it holds once its IPC channel is gone. */
  async stop(): Promise<void> {
    const exited = once(this.child, 'exit');
    this.child.disconnect();
    await exited;
    running.delete(this.child);
  }
}

/** One app instance, with the broker and the options of `env`. */
async function startInstance(env: { redisUrl?: string; prefix?: string; moduleOptions?: object; channelOptions?: object } = {}): Promise<{ instance: Forked; port: number }> {
  const instance = await Forked.start('./cross-instance-server.js', {
    BENCH_REDIS_URL: env.redisUrl ?? '',
    BENCH_PREFIX: env.prefix ?? '',
    BENCH_MODULE_OPTIONS: JSON.stringify(env.moduleOptions ?? {}),
    BENCH_CHANNEL_OPTIONS: JSON.stringify(env.channelOptions ?? {}),
  });
  if (!('listening' in instance.ready)) {
    throw new Error('a benchmark instance did not say its port');
  }
  return { instance, port: instance.ready.listening };
}

/** Counts frames as they arrive, with the time of each push, until a number is reached or the drain time is over. */
class Arrivals {
  private received = 0;
  private latencies: number[] = [];
  private lastAt = 0;
  private target = Infinity;
  private reached: (() => void) | undefined;

  /** Forgets what came before, for the next phase. */
  reset(): void {
    this.received = 0;
    this.latencies = [];
    this.target = Infinity;
  }

  /** One frame arrived; `sentAt` is when it was pushed, if it says. */
  arrived(sentAt?: number): void {
    const at = now();
    if (sentAt !== undefined) {
      this.latencies.push(at - sentAt);
    }
    this.lastAt = at;
    if (++this.received === this.target) {
      this.reached?.();
    }
  }

  /** Waits until `total` frames have arrived since the reset, or the drain time is over. */
  async drained(total: number): Promise<void> {
    if (this.received >= total) {
      return;
    }
    this.target = total;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => (this.reached = resolve)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, DRAIN_MS))),
    ]);
    clearTimeout(timer);
  }

  result(): { received: number; lastAt: number; latencies: number[] } {
    return { received: this.received, lastAt: this.lastAt, latencies: this.latencies };
  }
}

/** WebSocket clients that listen to the benchmark channel, spread over instances, and time each frame they get. */
class Listeners {
  readonly arrivals = new Arrivals();

  private constructor(private readonly sockets: WebSocket[]) {
    for (const socket of sockets) {
      socket.on('message', (frame: Buffer) => this.arrivals.arrived(Number(frame.toString('latin1', TICK_PREFIX_BYTES))));
    }
  }

  /** `count` listeners, taking the instances at `ports` in turn. */
  static async connect(ports: readonly number[], count: number): Promise<Listeners> {
    const sockets = await Promise.all(Array.from({ length: count }, (_, index) => listen(ports[index % ports.length])));
    return new Listeners(sockets);
  }

  get count(): number {
    return this.sockets.length;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.sockets.map((socket) => {
        if (socket.readyState === WebSocket.CLOSED) {
          return undefined; // the server closed it; the frames it missed are counted as lost
        }
        const closed = once(socket, 'close');
        socket.close();
        return closed;
      }),
    );
  }
}

/** Opens a client in acknowledged mode and waits until its listen is confirmed. */
async function listen(port: number): Promise<WebSocket> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`, [ACKNOWLEDGED_SUBPROTOCOL]);
  await once(socket, 'open');
  const answer = once(socket, 'message');
  socket.send(`listen: ${BENCH_CHANNEL}`);
  const [frame] = (await answer) as [Buffer];
  if (!frame.toString().includes('"ok":true')) {
    throw new Error(`listen refused: ${frame.toString()}`);
  }
  return socket;
}

interface Row {
  scenario: string;
  listeners: number | undefined;
  pushesPerSecond: number;
  deliveriesPerSecond: number;
  /** Pushes/s divided by those of the row it is compared with, and what that row is. */
  ratio?: { value: number; of: string };
  p50: number;
  p99: number;
  lost: number;
}

/** Runs one phase: the pusher's pushes, and the frames that arrived for them; throws if any push failed. */
async function phase(scenario: string, pusher: Forked, arrivals: Arrivals, perPush: number, request: PushRequest | CeilingRequest) {
  arrivals.reset();
  const startedAt = now();
  const { pushed, failed } = await pusher.push(request);
  if (failed > 0) {
    throw new Error(`${failed} pushes failed in "${scenario}"`);
  }
  await arrivals.drained(pushed * perPush);
  const { received, lastAt, latencies } = arrivals.result();
  return { pushed, seconds: (lastAt - startedAt) / 1000, latencies, lost: pushed * perPush - received };
}

/** The flood and the paced phase, with pushes on `pusher` and the listeners where they are. */
async function measure(scenario: string, pusher: Forked, listeners: Listeners): Promise<Row> {
  const flood = await phase(scenario, pusher, listeners.arrivals, listeners.count, FLOOD);
  const paced = await phase(scenario, pusher, listeners.arrivals, listeners.count, PACED);
  const sorted = paced.latencies.toSorted((a, b) => a - b);
  return {
    scenario,
    listeners: listeners.count,
    pushesPerSecond: flood.pushed / flood.seconds,
    deliveriesPerSecond: (flood.pushed * listeners.count) / flood.seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    lost: flood.lost + paced.lost,
  };
}

/** The ceiling: a plain ioredis loop in a process of its own publishing to one plain subscriber here. */
async function measureCeiling(prefix: string): Promise<Row> {
  const channel = `${prefix}ceiling`;
  const subscriber = new Redis(REDIS_URL, { maxRetriesPerRequest: 0 });
  const publisher = await Forked.start('./redis-ceiling.js', { BENCH_REDIS_URL: REDIS_URL });
  try {
    const arrivals = new Arrivals();
    subscriber.on('messageBuffer', () => arrivals.arrived());
    await subscriber.subscribe(channel);
    const flood = await phase('the ceiling', publisher, arrivals, 1, { channel, durationMs: FLOOD.durationMs, inFlight: IN_FLIGHT });
    return {
      scenario: `Redis ceiling: plain ioredis, pipelined, ${IN_FLIGHT} in flight`,
      listeners: undefined,
      pushesPerSecond: flood.pushed / flood.seconds,
      deliveriesPerSecond: flood.pushed / flood.seconds,
      p50: Number.NaN,
      p99: Number.NaN,
      lost: flood.lost,
    };
  } finally {
    subscriber.disconnect();
    await publisher.stop();
  }
}

/** Two instances on Redis, pushes on the first, `count` listeners on those of `on`, with the options of a feature. */
async function measureRedis(
  scenario: string,
  prefix: string,
  on: 'other' | 'pushing' | 'both',
  count: number,
  feature: { moduleOptions?: object; channelOptions?: object } = {},
): Promise<Row> {
  const [pushing, other] = await Promise.all([0, 1].map(() => startInstance({ redisUrl: REDIS_URL, prefix, ...feature })));
  try {
    const ports = on === 'other' ? [other.port] : on === 'pushing' ? [pushing.port] : [pushing.port, other.port];
    const listeners = await Listeners.connect(ports, count);
    try {
      return await measure(scenario, pushing.instance, listeners);
    } finally {
      await listeners.close();
    }
  } finally {
    await Promise.all([pushing.instance.stop(), other.instance.stop()]);
  }
}

function percentile(sorted: number[], fraction: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))];
}

async function redisVersion(): Promise<string> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  redis.on('error', () => undefined); // the failed connect below says it
  try {
    await redis.connect();
    return /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
  } catch (error) {
    throw new Error(`this benchmark needs Redis at ${REDIS_URL}: ${(error as Error).message}`, { cause: error });
  } finally {
    redis.disconnect();
  }
}

function print(rows: Row[], version: string, verdict: string): void {
  console.log(
    `Cross-instance push: throughput from ${FLOOD.durationMs} ms of pushes with ${IN_FLIGHT} in flight, ` +
      `latency at ${PACED.rate} pushes/s (Node ${process.version}, ${availableParallelism()} CPUs, Redis ${version})`,
  );
  const header = ['scenario', 'listeners', 'pushes/s', 'deliveries/s', 'ratio', 'p50 ms', 'p99 ms', 'lost'];
  const shown = (value: number, digits: number): string => (Number.isNaN(value) ? '—' : value.toFixed(digits));
  const lines = rows.map((row) => [
    row.scenario,
    row.listeners === undefined ? '—' : String(row.listeners),
    row.pushesPerSecond.toFixed(0),
    row.deliveriesPerSecond.toFixed(0),
    row.ratio ? `${row.ratio.value.toFixed(2)}× ${row.ratio.of}` : '',
    shown(row.p50, 2),
    shown(row.p99, 2),
    String(row.lost),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column].length)));
  for (const line of [header, ...lines]) {
    console.log(line.map((cell, column) => (column === 0 || column === 4 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  '));
  }
  console.log(verdict);
}

const running = new Set<ChildProcess>();
const deadline = setTimeout(() => {
  console.error(`cross-instance benchmark: stopped after ${DEADLINE_MS} ms`);
  for (const child of running) {
    child.kill('SIGKILL');
  }
  process.exit(1);
}, DEADLINE_MS);

const version = await redisVersion();
const prefix = `easy-ws-bench:${process.pid}-${Date.now().toString(36)}:`;
const rows: Row[] = [];

const single = await startInstance();
const local = await Listeners.connect([single.port], LISTENERS);
rows.push(await measure('in-process broker, one instance', single.instance, local));
await local.close();
await single.instance.stop();

const ceiling = await measureCeiling(prefix);
rows.push(ceiling);
const plain = await measureRedis('RedisBroker, listener on the other instance', prefix, 'other', 1);
plain.ratio = { value: plain.pushesPerSecond / ceiling.pushesPerSecond, of: 'ceiling' };
rows.push(plain);
for (const feature of PRICED_FEATURES) {
  const priced = await measureRedis(`RedisBroker, ${feature.label}`, prefix, 'other', 1, feature);
  priced.ratio = { value: priced.pushesPerSecond / plain.pushesPerSecond, of: 'plain' };
  rows.push(priced);
}
rows.push(await measureRedis('RedisBroker, listeners spread over two instances', prefix, 'both', LISTENERS));
rows.push(await measureRedis('RedisBroker, listeners on the pushing instance', prefix, 'pushing', LISTENERS));

clearTimeout(deadline);
const ratio = plain.ratio.value;
print(rows, version, `RedisBroker channel pushes ÷ the Redis ceiling: ${ratio.toFixed(2)}× (target ≥ ${TARGET}×) ${ratio >= TARGET ? '✓' : '✗'}`);
