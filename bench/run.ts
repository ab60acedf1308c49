/**
 * `npm run bench`: measures our module against bare `ws` and the two Nest gateway
 * platforms, each server its own process on one core, driven by a load generator on
 * another; prints one table and writes it to BENCHMARKS.md.
 *
 * Options: `--quick` for a short smoke run (fewer runs, smaller counts, no file written).
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { LoadGenerator } from './load-generator.js';
import { BenchServer, detectPinning, type Pinning } from './processes.js';
import { PRICED_FEATURES } from './features.js';
import { measurePricing, type PricingPlan } from './pricing.js';
import { alternatingFanOut, alternatingRoundTrips } from './alternating.js';
import { MAIN_TABLE, METRICS_COST_NOTES, METRICS_FAN_OUT_KEY, METRICS_NOISE_KEY, METRICS_ROUND_TRIP_KEY, renderMetricsCost, renderPricing, renderTable, Results, SCALE_NOTES, scaleTable, TABLE_NOTES } from './report.js';
import { measureScaleCurve, type ScalePlan } from './scale-curve.js';
import { SERVERS, type ServerName } from './wire.js';

interface RoundTripStep {
  readonly metric: string;
  readonly clients: number;
  readonly rounds: number;
  readonly warmupMs: number;
  readonly measureMs: number;
}

interface Plan {
  readonly roundTrips: readonly RoundTripStep[];
  /**
   * Fan-out runs. The first measures every server; the others only ours and the best
   * bare variant, which the targets compare: the slower servers would need minutes.
   */
  readonly fanOutRuns: number;
  /** Connections per fan-out server process; with 10,000, idle memory is measured too. */
  readonly connections: number;
  readonly levels: readonly number[];
  readonly pushes: number;
  readonly singlePushes: number;
  /** The single push is timed at this many listeners. */
  readonly singlePushLevel: number;
  /** No fan-out run starts once this much time has passed since the bench began. */
  readonly deadlineMs: number;
  readonly pricing: PricingPlan;
  readonly scale: ScalePlan;
  /** Alternating rounds of ours with metrics on, off, and off again (the noise). */
  readonly metricsRounds: number;
  /** Alternating fan-out runs of ours with metrics on and off. */
  readonly metricsFanOutRuns: number;
}

const IN_FLIGHT = 8;
const MEMORY_CONNECTIONS = 10_000;

const FULL: Plan = {
  roundTrips: [
    { metric: 'rt50', clients: 50, rounds: 5, warmupMs: 300, measureMs: 1000 },
    { metric: 'rt10', clients: 10, rounds: 3, warmupMs: 200, measureMs: 600 },
    { metric: 'rt100', clients: 100, rounds: 3, warmupMs: 200, measureMs: 600 },
    { metric: 'rt1000', clients: 1000, rounds: 3, warmupMs: 400, measureMs: 800 },
  ],
  fanOutRuns: 5,
  connections: MEMORY_CONNECTIONS,
  levels: [100, 1000, 5000, 10_000],
  pushes: 100,
  singlePushes: 5,
  singlePushLevel: 5000,
  deadlineMs: 230_000,
  pricing: { runs: 3, listeners: 1000, bursts: 3, pushes: 100 },
  scale: { levels: [10_000, 25_000, 50_000], heartbeatMs: 5000, pushes: 3, deadlineMs: 180_000 },
  metricsRounds: 25,
  metricsFanOutRuns: 6,
};

const QUICK: Plan = {
  roundTrips: [
    { metric: 'rt50', clients: 50, rounds: 2, warmupMs: 200, measureMs: 400 },
    { metric: 'rt1000', clients: 1000, rounds: 1, warmupMs: 200, measureMs: 400 },
  ],
  fanOutRuns: 2,
  connections: 5000,
  levels: [100, 1000, 5000],
  pushes: 100,
  singlePushes: 3,
  singlePushLevel: 5000,
  deadlineMs: 90_000,
  pricing: { runs: 1, listeners: 1000, bursts: 2, pushes: 100 },
  scale: { levels: [5000], heartbeatMs: 3000, pushes: 2, deadlineMs: 30_000 },
  metricsRounds: 3,
  metricsFanOutRuns: 2,
};

const ROUND_TRIP_SERVERS: readonly ServerName[] = ['ours', 'bareBest', 'bareSend', 'platformWs', 'socketIo'];
const FAN_OUT_SERVERS: readonly ServerName[] = ['ours', 'bareBest', 'bareSend', 'platformWs', 'socketIo'];
/** The servers of every fan-out run after the first. */
const FAN_OUT_TARGET_SERVERS: readonly ServerName[] = ['ours', 'bareBest'];

const quick = process.argv.includes('--quick');
const plan = quick ? QUICK : FULL;
const began = performance.now();
const results = new Results();
const notes: string[] = [];
/** Server and generator CPU use, to show who was the bottleneck. */
const utilisation: string[] = [];

function log(message: string): void {
  const seconds = ((performance.now() - began) / 1000).toFixed(0).padStart(3);
  console.error(`[${seconds}s] ${message}`);
}

/** The servers in a different order each run, so that none always goes first on a warming machine. */
function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

function percent(cpuMs: number, wallMs: number): string {
  return `${Math.round((cpuMs / wallMs) * 100)}%`;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Round trips: every server runs at once (idle ones cost nothing), measured in turn, round after round. */
async function measureRoundTrips(generator: LoadGenerator, pinning: Pinning): Promise<void> {
  const servers = new Map<ServerName, BenchServer>();
  for (const name of ROUND_TRIP_SERVERS) {
    const server = await BenchServer.start(name, pinning);
    servers.set(name, server);
    await generator.verify(server.port, name);
  }
  try {
    for (const step of plan.roundTrips) {
      for (const [name, server] of servers) {
        await generator.openGroup(name, server.port, name, step.clients);
      }
      for (let round = 0; round < step.rounds; round++) {
        for (const name of rotate(ROUND_TRIP_SERVERS, round)) {
          const server = servers.get(name) as BenchServer;
          let cpuAtStart = 0;
          let windowStart = 0;
          const result = await generator.roundTrips({ group: name, inFlight: IN_FLIGHT, warmupMs: step.warmupMs, measureMs: step.measureMs }, async () => {
            windowStart = performance.now();
            cpuAtStart = (await server.stats()).cpuMs;
          });
          const serverCpuMs = (await server.stats()).cpuMs - cpuAtStart;
          const serverCpu = percent(serverCpuMs, performance.now() - windowStart);
          // From the server's own CPU time: on a shared machine, steadier than the rates.
          const microsPerRoundTrip = (serverCpuMs * 1000) / result.count;
          results.record(step.metric, name, round, result.perSecond);
          results.record(`${step.metric}cpu`, name, round, microsPerRoundTrip);
          results.record(`${step.metric}p50`, name, round, result.p50Ms);
          results.record(`${step.metric}p99`, name, round, result.p99Ms);
          if (step.metric === 'rt50' && round === 0) {
            utilisation.push(`round trips, 50 clients, ${SERVERS[name].label}: server ${serverCpu}, load generator ${Math.round(result.generatorCpuPercent)}%`);
          }
          log(
            `${step.clients} clients, ${SERVERS[name].label}: ${Math.round(result.perSecond)} round trips/s, p99 ${result.p99Ms.toFixed(2)} ms ` +
              `(server CPU ${serverCpu}, ${microsPerRoundTrip.toFixed(2)} µs per round trip)`,
          );
        }
      }
      for (const name of servers.keys()) {
        await generator.closeGroup(name);
      }
    }
  } finally {
    await Promise.all([...servers.values()].map((server) => server.stop()));
  }
}

/**
 * What metrics cost: for round trips, ours with metrics off, on, and off again (the
 * noise) in alternating rounds; for fan-out, ours off and on in alternating runs.
 */
async function measureMetricsCost(generator: LoadGenerator, pinning: Pinning): Promise<void> {
  // Metrics on in the middle: started, and measured, between the two without.
  const servers = [await BenchServer.start('ours', pinning), await BenchServer.start('oursMetrics', pinning), await BenchServer.start('ours', pinning)];
  try {
    const [off, on, offAgain] = await alternatingRoundTrips(generator, servers, plan.metricsRounds, log);
    off.forEach((value, round) => {
      // Against both servers without metrics, so that whatever favours one process over another weighs on both sides.
      results.record(METRICS_ROUND_TRIP_KEY, 'ours', round, (value + offAgain[round]) / 2);
      results.record(METRICS_ROUND_TRIP_KEY, 'oursMetrics', round, on[round]);
      results.record(METRICS_NOISE_KEY, 'ours', round, value);
      results.record(METRICS_NOISE_KEY, 'oursMetrics', round, offAgain[round]);
    });
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
  const [off, on] = await alternatingFanOut(generator, (name) => BenchServer.start(name, pinning), ['ours', 'oursMetrics'], plan.metricsFanOutRuns, 1000, log);
  off.forEach((value, run) => {
    results.record(METRICS_FAN_OUT_KEY, 'ours', run, value);
    results.record(METRICS_FAN_OUT_KEY, 'oursMetrics', run, on[run]);
  });
}

/** One fan-out run of one server, in a fresh process: idle memory, then the deliveries at each listener count. */
async function fanOutRun(generator: LoadGenerator, pinning: Pinning, name: ServerName, run: number, connections: number): Promise<void> {
  const server = await BenchServer.start(name, pinning);
  try {
    const idle = (await server.stats(true)).rss;
    const opened = await generator.connect(server.port, name, connections);
    if (opened >= MEMORY_CONNECTIONS && name !== 'bareSend') {
      const loaded = (await server.stats(true)).rss;
      results.record('memory', name, run, (loaded - idle) / opened / 1024);
    }
    for (const level of plan.levels.filter((count) => count <= opened)) {
      await generator.listen(level);
      if (level === plan.levels[0]) {
        await generator.burst(plan.pushes); // warm-up: the first burst compiles the hot paths
      }
      if (level === plan.singlePushLevel) {
        const times: number[] = [];
        for (let push = 0; push < plan.singlePushes; push++) {
          times.push((await generator.burst(1)).ms);
        }
        results.record('push5000', name, run, median(times));
      }
      const rates: number[] = [];
      for (let burst = 0; burst < (level <= 1000 ? 3 : 1); burst++) {
        const cpuAtStart = (await server.stats()).cpuMs;
        const startedAt = performance.now();
        const { ms, generatorCpuMs } = await generator.burst(plan.pushes);
        const serverCpu = percent((await server.stats()).cpuMs - cpuAtStart, performance.now() - startedAt);
        rates.push(((level * plan.pushes) / ms) * 1000);
        if (level === 1000 && run === 0 && burst === 0) {
          utilisation.push(`fan-out, 1000 listeners, ${SERVERS[name].label}: server ${serverCpu}, load generator ${percent(generatorCpuMs, ms)}`);
        }
      }
      results.record(`fan${level}`, name, run, median(rates));
      log(`fan-out ${level} listeners, ${SERVERS[name].label}: ${Math.round(median(rates))} deliveries/s`);
    }
  } finally {
    await generator.closeAll();
    await server.stop();
  }
}

async function measureFanOut(generator: LoadGenerator, pinning: Pinning, openFiles: number): Promise<void> {
  const connections = Math.min(plan.connections, openFiles - 100);
  if (connections < plan.connections) {
    notes.push(`Only ${connections} connections per process: the open-file limit is ${openFiles} (raise it with \`ulimit -n\`).`);
  }
  let run = 0;
  for (; run < plan.fanOutRuns && (run === 0 || performance.now() - began < plan.deadlineMs); run++) {
    for (const name of rotate(run === 0 ? FAN_OUT_SERVERS : FAN_OUT_TARGET_SERVERS, run)) {
      await fanOutRun(generator, pinning, name, run, connections);
    }
  }
  notes.push(
    `Fan-out and memory: ${run} runs of ours and the best bare variant (each a fresh server process); the bare \`ws.send\` loop and the two gateways were measured in the first run only, as at 10,000 listeners each of their runs takes half a minute.`,
  );
  if (run < plan.fanOutRuns) {
    notes.push(`Only ${run} of ${plan.fanOutRuns} fan-out runs fitted in the time bound (the machine was slow).`);
  }
}

function packageVersion(name: string): string {
  try {
    return JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

function machine(): string[] {
  const started = new Date();
  return [
    `- Date: ${started.toISOString().replace('T', ' ').slice(0, 16)} UTC`,
    `- CPU: ${cpus()[0]?.model ?? 'unknown'}, ${availableParallelism()} cores; RAM ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- Node ${process.version}, ws ${packageVersion('ws')}, @nestjs/core ${packageVersion('@nestjs/core')}, socket.io ${packageVersion('socket.io')}`,
    `- Load average when the run began: ${loadavg()[0].toFixed(2)} (a quiet machine shows close to 0; other work on the machine lowers every figure)`,
  ];
}

/**
 * Runs the cross-instance benchmark in its own process tree and returns what it
 * printed, or why it failed: the tables above are worth keeping either way.
 */
async function measureCrossInstance(): Promise<string> {
  log('cross-instance pushes through Redis');
  const script = fileURLToPath(new URL('./cross-instance.js', import.meta.url));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 180_000 });
    return stdout.trimEnd();
  } catch (error) {
    return `The cross-instance benchmark failed: ${(error as Error).message}`;
  }
}

async function main(): Promise<void> {
  const pinning = detectPinning();
  const machineLines = machine();
  log(pinning.note);
  const generator = LoadGenerator.start(pinning);
  try {
    const openFiles = (await generator.openFiles()) ?? 1024;
    await measureRoundTrips(generator, pinning);
    await measureFanOut(generator, pinning, openFiles);
    await measureMetricsCost(generator, pinning);
    await measurePricing(generator, pinning, plan.pricing, PRICED_FEATURES, results, log);
    notes.push(...(await measureScaleCurve(generator, pinning, plan.scale, results, log)));
  } finally {
    generator.stop();
  }
  const crossInstance = quick ? undefined : await measureCrossInstance();
  const seconds = Math.round((performance.now() - began) / 1000);
  const sections = [
    machineLines.join('\n'),
    renderTable(results, MAIN_TABLE),
    ...TABLE_NOTES,
    '## Metrics on and off',
    renderMetricsCost(results),
    ...METRICS_COST_NOTES,
    '## Features priced on pushes',
    `Pushes to ${plan.pricing.listeners} listeners in bursts of ${plan.pricing.pushes}, with each feature on, next to plain pushes, each in a fresh process of our server, ${plan.pricing.runs} runs; the figures through Redis are in the last section.`,
    renderPricing(results, PRICED_FEATURES.map(({ label }) => label)),
    '## The scale curve',
    renderTable(results, scaleTable(plan.scale.levels)),
    ...SCALE_NOTES,
    ...(crossInstance === undefined
      ? []
      : [
          '## Across instances (RedisBroker)',
          'Channel pushes from one instance to listeners on others through the Redis at `REDIS_URL`, next to what a plain ioredis loop carries through the same Redis (the ceiling) and to the in-process broker; the priced features through Redis, next to plain (`node dist/bench/cross-instance.js`).',
          ['```', crossInstance, '```'].join('\n'),
        ]),
    '## How it ran',
    [
      `- ${pinning.note}; loopback only; 64-byte payloads; ${IN_FLIGHT} requests in flight per client; bursts of ${plan.pushes} pushes.`,
      ...notes.map((note) => `- ${note}`),
      ...utilisation.map((line) => `- CPU: ${line}`),
      `- The whole run took ${seconds} s (\`npm run bench${quick ? ' -- --quick' : ''}\`).`,
    ].join('\n'),
  ];
  console.log(`\n${sections.join('\n\n')}`);
  if (quick) {
    return;
  }
  const markdown = ['# Benchmarks', 'Produced by `npm run bench`; see docs/performance.md for what each figure measures.', ...sections].join('\n\n');
  writeFileSync(new URL('../../BENCHMARKS.md', import.meta.url), `${markdown}\n`);
  log('written to BENCHMARKS.md');
}

await main();
