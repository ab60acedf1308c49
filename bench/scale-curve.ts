/**
 * The scale curve: ours and the tuned bare `ws` server holding 10,000, 25,000 and
 * 50,000 connections, each level in fresh server processes, measured side by side:
 * idle memory per connection, the CPU the heartbeat costs, and one push to every
 * connection. The client sockets come from several loopback addresses (one has ports
 * for some 28,000 connections to a server).
 */
import { performance } from 'node:perf_hooks';
import type { LoadGenerator } from './load-generator.js';
import { BenchServer, type Pinning } from './processes.js';
import { type Results, summarise } from './report.js';
import { SERVERS } from './wire.js';

/** What the scale curve measures, and how long it may take. */
export interface ScalePlan {
  readonly levels: readonly number[];
  /**
   * The heartbeat interval the servers run with. The default of 30 s would make the
   * curve wait minutes for its rounds, so a shorter one runs, and the CPU of one whole
   * interval (its round and the quiet after it) is reported as a share of 30 s.
   */
  readonly heartbeatMs: number;
  /** Pushes timed at each level (after one that warms up); the median is reported. */
  readonly pushes: number;
  /** No level starts once this much time has passed since the curve began. */
  readonly deadlineMs: number;
}

/** The heartbeat interval the library uses by default, to which the measured CPU is scaled. */
const DEFAULT_HEARTBEAT_MS = 30_000;
/** Open files a server or the generator needs besides one per connection. */
const SPARE_FILES = 100;

type ScaleServer = 'ours' | 'bareBest';

/** How each server is told its heartbeat interval. */
const HEARTBEAT_ARGS: Record<ScaleServer, (ms: number) => string[]> = {
  ours: (ms) => ['--module-options', JSON.stringify({ heartbeatInterval: ms })],
  bareBest: (ms) => ['--heartbeat', String(ms)],
};

/** Measures every level that fits the open-file limits and the time bound; returns notes on what did not. */
export async function measureScaleCurve(
  generator: LoadGenerator,
  pinning: Pinning,
  plan: ScalePlan,
  results: Results,
  log: (message: string) => void,
): Promise<string[]> {
  const notes: string[] = [];
  const began = performance.now();
  const generatorFiles = (await generator.openFiles()) ?? 1024;
  for (const [index, level] of plan.levels.entries()) {
    if (performance.now() - began > plan.deadlineMs) {
      notes.push(`Scale curve: ${level.toLocaleString('en-US')} connections and more not measured, the time bound of ${plan.deadlineMs / 1000} s was spent.`);
      break;
    }
    const servers: ScaleServer[] = index % 2 === 0 ? ['ours', 'bareBest'] : ['bareBest', 'ours'];
    try {
      for (const name of servers) {
        await measureLevel(generator, pinning, plan, name, level, generatorFiles, results, log);
      }
    } catch (error) {
      notes.push(`Scale curve: ${level.toLocaleString('en-US')} connections and more not measured: ${(error as Error).message}`);
      break;
    }
  }
  return notes;
}

/** One server at one level, in a fresh process that is stopped, with every connection closed, whatever happens. */
async function measureLevel(
  generator: LoadGenerator,
  pinning: Pinning,
  plan: ScalePlan,
  name: ScaleServer,
  level: number,
  generatorFiles: number,
  results: Results,
  log: (message: string) => void,
): Promise<void> {
  const server = await BenchServer.start(name, pinning, { args: HEARTBEAT_ARGS[name](plan.heartbeatMs) });
  try {
    const idle = await server.stats(true);
    const files = Math.min(generatorFiles, idle.openFiles ?? 1024);
    if (level + SPARE_FILES > files) {
      throw new Error(
        `the open-file limit is ${files} (the bench raises it for its processes where it may: run it as root, or raise \`ulimit -Hn\`)`,
      );
    }
    const opened = await generator.connect(server.port, name, level);
    const kilobytes = ((await server.stats(true)).rss - idle.rss) / opened / 1024;
    await generator.listen(opened);
    // From the end of one heartbeat round to the end of the next: one whole interval.
    await generator.heartbeatRound();
    const cpuAtStart = (await server.stats()).cpuMs;
    await generator.heartbeatRound();
    const heartbeatPercent = (((await server.stats()).cpuMs - cpuAtStart) / DEFAULT_HEARTBEAT_MS) * 100;
    const pushMs = summarise(await timePushes(generator, plan.pushes))?.median ?? Number.NaN;
    results.record(`scale${level}memory`, name, 0, kilobytes);
    results.record(`scale${level}heartbeat`, name, 0, heartbeatPercent);
    results.record(`scale${level}push`, name, 0, pushMs);
    log(
      `scale curve, ${level} connections, ${SERVERS[name].label}: ${kilobytes.toFixed(1)} KB each, ` +
        `heartbeat ${heartbeatPercent.toFixed(2)}% of a core at 30 s, one push ${pushMs.toFixed(1)} ms to the last`,
    );
  } finally {
    // The server first: its side of each connection closes, so the client ports leave no TIME_WAIT behind.
    await server.stop();
    await generator.closeAll();
  }
}

/**
 * Times single pushes to every listener in the quiet time between heartbeat rounds: a
 * push that a round overlapped is not counted, and the next waits for the round's end.
 */
async function timePushes(generator: LoadGenerator, pushes: number): Promise<number[]> {
  await generator.burst(1); // warm-up: the first push compiles the path for this many listeners
  const times: number[] = [];
  for (let attempt = 0; times.length < pushes; attempt++) {
    if (attempt === pushes * 3) {
      throw new Error(`heartbeat rounds overlapped ${attempt - times.length} of ${attempt} pushes`);
    }
    const { ms, pings } = await generator.burst(1);
    if (pings === 0) {
      times.push(ms);
    } else {
      await generator.heartbeatRound();
    }
  }
  return times;
}
