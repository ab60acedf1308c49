/**
 * `npm run bench:profile`: runs our server under `node --cpu-prof`, once under
 * round-trip load and once under fan-out, and prints where its CPU time goes. The
 * profiles are left in `artifacts/profiles/` (not committed) for Chrome DevTools.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summariseProfile } from './cpuprofile-summary.js';
import { LoadGenerator } from './load-generator.js';
import { BenchServer, detectPinning } from './processes.js';

const directory = fileURLToPath(new URL('../../artifacts/profiles/', import.meta.url));
const SECONDS = 5;

async function profiled(name: string, scenario: (server: BenchServer) => Promise<void>): Promise<string> {
  const into = join(directory, name);
  rmSync(into, { recursive: true, force: true });
  mkdirSync(into, { recursive: true });
  const server = await BenchServer.start('ours', pinning, ['--cpu-prof', `--cpu-prof-dir=${into}`]);
  try {
    await scenario(server);
  } finally {
    await server.stop();
  }
  const [file] = readdirSync(into).filter((entry) => entry.endsWith('.cpuprofile'));
  return join(into, file);
}

const pinning = detectPinning();
const generator = LoadGenerator.start(pinning);
try {
  const roundTrips = await profiled('round-trips', async (server) => {
    const result = await generator.roundTrips(
      { port: server.port, server: 'ours', clients: 50, inFlight: 8, warmupMs: 500, measureMs: SECONDS * 1000 },
      async () => undefined,
    );
    console.log(`round trips: ${Math.round(result.perSecond)}/s, p99 ${result.p99Ms.toFixed(2)} ms`);
  });
  const fanOut = await profiled('fan-out', async (server) => {
    await generator.connect(server.port, 'ours', 1000);
    await generator.listen(1000);
    let deliveries = 0;
    let elapsed = 0;
    while (elapsed < SECONDS * 1000) {
      elapsed += await generator.burst(100);
      deliveries += 1000 * 100;
    }
    await generator.closeAll();
    console.log(`fan-out: ${Math.round((deliveries / elapsed) * 1000)} deliveries/s to 1000 listeners`);
  });
  for (const [title, file] of [
    ['round trips, 50 clients', roundTrips],
    ['fan-out, 1000 listeners, bursts of 100', fanOut],
  ]) {
    console.log(`\n## ${title} (${file})\n${summariseProfile(file).join('\n')}`);
  }
} finally {
  generator.stop();
}
