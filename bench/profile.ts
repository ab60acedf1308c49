/**
 * `npm run bench:profile`: runs our server under `node --cpu-prof`, once under
 * round-trip load and once under fan-out, and the tuned bare server under the same
 * round trips, and prints where their CPU time goes. The profiles are left in
 * `artifacts/profiles/` (not committed) for Chrome DevTools.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { summariseProfile } from './cpuprofile-summary.js';
import { LoadGenerator } from './load-generator.js';
import { BenchServer, detectPinning } from './processes.js';
import { SERVERS, type ServerName } from './wire.js';

const directory = fileURLToPath(new URL('../../artifacts/profiles/', import.meta.url));
const SECONDS = 5;

/** A profile, and how long the server took to start (left out of the summary). */
interface Profiled {
  readonly file: string;
  readonly startupMs: number;
}

async function profiled(name: string, serverName: ServerName, scenario: (server: BenchServer) => Promise<void>): Promise<Profiled> {
  const into = join(directory, name);
  rmSync(into, { recursive: true, force: true });
  mkdirSync(into, { recursive: true });
  const spawned = performance.now();
  const server = await BenchServer.start(serverName, pinning, { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${into}`] });
  const startupMs = performance.now() - spawned;
  try {
    await scenario(server);
  } finally {
    await server.stop();
  }
  const [file] = readdirSync(into).filter((entry) => entry.endsWith('.cpuprofile'));
  return { file: join(into, file), startupMs };
}

/** Round trips of 50 clients on `serverName`, profiled, with the server's CPU time per round trip. */
function profileRoundTrips(name: string, serverName: ServerName): Promise<Profiled> {
  return profiled(name, serverName, async (server) => {
    await generator.openGroup('profile', server.port, serverName, 50);
    let cpuAtStart = 0;
    const result = await generator.roundTrips({ group: 'profile', inFlight: 8, warmupMs: 500, measureMs: SECONDS * 1000 }, async () => {
      cpuAtStart = (await server.stats()).cpuMs;
    });
    const micros = (((await server.stats()).cpuMs - cpuAtStart) * 1000) / result.count;
    await generator.closeGroup('profile');
    console.log(
      `round trips, ${SERVERS[serverName].label}: ${Math.round(result.perSecond)}/s, p99 ${result.p99Ms.toFixed(2)} ms, ` +
        `${micros.toFixed(2)} µs of server CPU each (profiling adds to it)`,
    );
  });
}

const pinning = detectPinning();
const generator = LoadGenerator.start(pinning);
try {
  const roundTrips = await profileRoundTrips('round-trips', 'ours');
  // The same load on the tuned bare server, to see what our path adds to the work of any server.
  const bareRoundTrips = await profileRoundTrips('round-trips-bare', 'bareBest');
  const fanOut = await profiled('fan-out', 'ours', async (server) => {
    await generator.connect(server.port, 'ours', 1000);
    await generator.listen(1000);
    let deliveries = 0;
    let elapsed = 0;
    while (elapsed < SECONDS * 1000) {
      elapsed += (await generator.burst(100)).ms;
      deliveries += 1000 * 100;
    }
    await generator.closeAll();
    console.log(`fan-out: ${Math.round((deliveries / elapsed) * 1000)} deliveries/s to 1000 listeners`);
  });
  for (const [title, { file, startupMs }] of [
    ['round trips, 50 clients', roundTrips],
    [`round trips, 50 clients, ${SERVERS.bareBest.label}`, bareRoundTrips],
    ['fan-out, 1000 listeners, bursts of 100', fanOut],
  ] as const) {
    console.log(`\n## ${title} (${file}; the first ${Math.round(startupMs)} ms, start-up, left out)\n${summariseProfile(file, 15, startupMs).join('\n')}`);
  }
} finally {
  generator.stop();
}
