/**
 * Cross-instance push: how many frames a second `RedisBroker` carries from one app
 * instance to listeners on another, and how long a push takes to reach them, next to
 * the in-process broker on a single instance.
 *
 *   npm run build && node dist/bench/cross-instance.js
 *
 * Each instance runs in a process of its own (`cross-instance-server.ts`); this process
 * is the load generator and holds the listeners. `REDIS_URL` (default
 * redis://127.0.0.1:6379) names the Redis; the run uses a channel prefix of its own.
 * Two phases per scenario: a flood (awaited push loops as fast as they go) for
 * throughput, then a fixed rate well below it for the latency of an unloaded push.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { ACKNOWLEDGED_SUBPROTOCOL } from 'nestjs-easy-ws';
import { BENCH_CHANNEL, now, type PushRequest, type ServerReport } from './cross-instance-protocol.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const LISTENERS = 20;
const FLOOD = { mode: 'flood', durationMs: 3000, concurrency: 16 } as const satisfies PushRequest;
const PACED = { mode: 'paced', durationMs: 2000, rate: 500 } as const satisfies PushRequest;
/** How long the listeners may take to receive the last frames after the pushes are done. */
const DRAIN_MS = 10_000;
/** The whole run stops here, whatever state it is in. */
const DEADLINE_MS = 55_000;
const TICK_PREFIX_BYTES = Buffer.byteLength('tick: ');

/** One app instance in a process of its own. */
class Instance {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(redisUrl?: string, prefix?: string): Promise<Instance> {
    const env = { ...process.env, BENCH_REDIS_URL: redisUrl ?? '', BENCH_PREFIX: prefix ?? '' };
    const child = fork(new URL('./cross-instance-server.js', import.meta.url), [], { env });
    running.add(child);
    const [report] = (await Promise.race([once(child, 'message'), once(child, 'exit').then(() => [undefined])])) as [ServerReport | undefined];
    if (!report || !('listening' in report)) {
      throw new Error('a benchmark instance did not start');
    }
    return new Instance(child, report.listening);
  }

  async push(request: PushRequest): Promise<{ pushed: number; failed: number }> {
    const answer = once(this.child, 'message');
    this.child.send(request);
    const [report] = (await answer) as [ServerReport];
    if (!('pushed' in report)) {
      throw new Error('unexpected answer from a benchmark instance');
    }
    return report;
  }

  /** Ends the instance: it closes the app (and its broker) once its IPC channel is gone. */
  async stop(): Promise<void> {
    const exited = once(this.child, 'exit');
    this.child.disconnect();
    await exited;
    running.delete(this.child);
  }
}

/** WebSocket clients that listen to the benchmark channel and time each frame they get. */
class Listeners {
  private received = 0;
  private latencies: number[] = [];
  private lastAt = 0;
  private target = Infinity;
  private reached: (() => void) | undefined;

  private constructor(private readonly sockets: WebSocket[]) {
    for (const socket of sockets) {
      socket.on('message', (frame: Buffer) => this.receive(frame));
    }
  }

  static async connect(port: number, count: number): Promise<Listeners> {
    const sockets = await Promise.all(Array.from({ length: count }, () => listen(port)));
    return new Listeners(sockets);
  }

  /** Forgets what came before, for the next phase. */
  reset(): void {
    this.received = 0;
    this.latencies = [];
    this.target = Infinity;
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

  private receive(frame: Buffer): void {
    const at = now();
    this.latencies.push(at - Number(frame.toString('latin1', TICK_PREFIX_BYTES)));
    this.lastAt = at;
    if (++this.received === this.target) {
      this.reached?.();
    }
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
  pushesPerSecond: number;
  deliveriesPerSecond: number;
  p50: number;
  p99: number;
  lost: number;
}

/** Runs the flood and the paced phase with pushes on `pusher` and the listeners where they are. */
async function measure(scenario: string, pusher: Instance, listeners: Listeners): Promise<Row> {
  let lost = 0;
  const phase = async (request: PushRequest): Promise<{ pushed: number; seconds: number; latencies: number[] }> => {
    listeners.reset();
    const startedAt = now();
    const { pushed, failed } = await pusher.push(request);
    if (failed > 0) {
      throw new Error(`${failed} pushes failed in "${scenario}"`);
    }
    await listeners.drained(pushed * LISTENERS);
    const { received, lastAt, latencies } = listeners.result();
    lost += pushed * LISTENERS - received;
    return { pushed, seconds: (lastAt - startedAt) / 1000, latencies };
  };
  const flood = await phase(FLOOD);
  const paced = await phase(PACED);
  const sorted = paced.latencies.toSorted((a, b) => a - b);
  return {
    scenario,
    pushesPerSecond: flood.pushed / flood.seconds,
    deliveriesPerSecond: (flood.pushed * LISTENERS) / flood.seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    lost,
  };
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

function print(rows: Row[], version: string): void {
  console.log(
    `Cross-instance push: ${LISTENERS} listeners; throughput from ${FLOOD.durationMs} ms of ${FLOOD.concurrency} awaited push loops, ` +
      `latency at ${PACED.rate} pushes/s (Node ${process.version}, ${availableParallelism()} CPUs, Redis ${version})`,
  );
  const header = ['scenario', 'pushes/s', 'deliveries/s', 'p50 ms', 'p99 ms', 'lost'];
  const lines = rows.map((row) => [
    row.scenario,
    row.pushesPerSecond.toFixed(0),
    row.deliveriesPerSecond.toFixed(0),
    row.p50.toFixed(2),
    row.p99.toFixed(2),
    String(row.lost),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column].length)));
  for (const line of [header, ...lines]) {
    console.log(line.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  '));
  }
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
const rows: Row[] = [];

const single = await Instance.start();
let listeners = await Listeners.connect(single.port, LISTENERS);
rows.push(await measure('in-process broker, one instance', single, listeners));
await listeners.close();
await single.stop();

const prefix = `easy-ws-bench:${process.pid}-${Date.now().toString(36)}:`;
const [pushing, other] = await Promise.all([Instance.start(REDIS_URL, prefix), Instance.start(REDIS_URL, prefix)]);
listeners = await Listeners.connect(other.port, LISTENERS);
rows.push(await measure('RedisBroker, listeners on the other instance', pushing, listeners));
await listeners.close();
listeners = await Listeners.connect(pushing.port, LISTENERS);
rows.push(await measure('RedisBroker, listeners on the pushing instance', pushing, listeners));
await listeners.close();
await Promise.all([pushing.stop(), other.stop()]);

clearTimeout(deadline);
print(rows, version);
