/**
 * `node dist/bench/side-by-side.js A B [rounds]`: server CPU per round trip of two bench
 * servers (names of `SERVERS`), both running, measured in alternation round after round,
 * for a cost too small for the full bench's few rounds to show; prints each round and
 * the median of the per-round ratios B ÷ A.
 */
import { performance } from 'node:perf_hooks';
import { LoadGenerator } from './load-generator.js';
import { BenchServer, detectPinning } from './processes.js';
import { SERVERS, type ServerName } from './wire.js';

const [first = 'ours', second = 'oursMetrics', roundsText = '15'] = process.argv.slice(2);
const names = [first, second] as ServerName[];
for (const name of names) {
  if (!(name in SERVERS)) {
    throw new Error(`no bench server ${name}; there are ${Object.keys(SERVERS).join(', ')}`);
  }
}
const pinning = detectPinning();
const generator = LoadGenerator.start(pinning);
const servers = await Promise.all(names.map((name) => BenchServer.start(name, pinning)));
const perRound: number[][] = [[], []];
try {
  for (const [index, server] of servers.entries()) {
    await generator.verify(server.port, names[index]);
    await generator.openGroup(names[index], server.port, names[index], 50);
  }
  for (let round = 0; round < Number(roundsText); round++) {
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    for (const index of order) {
      const server = servers[index];
      let cpuAtStart = 0;
      const result = await generator.roundTrips({ group: names[index], inFlight: 8, warmupMs: 300, measureMs: 1000 }, async () => {
        cpuAtStart = (await server.stats()).cpuMs;
      });
      perRound[index][round] = (((await server.stats()).cpuMs - cpuAtStart) * 1000) / result.count;
    }
    console.log(`round ${round}: ${names[0]} ${perRound[0][round].toFixed(2)} µs, ${names[1]} ${perRound[1][round].toFixed(2)} µs per round trip`);
  }
} finally {
  generator.stop();
  await Promise.all(servers.map((server) => server.stop()));
}
const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const median = (values: number[]) => sorted(values)[Math.floor(values.length / 2)];
const ratios = perRound[1].map((value, round) => value / perRound[0][round]);
console.log(
  `median: ${names[0]} ${median(perRound[0]).toFixed(2)} µs, ${names[1]} ${median(perRound[1]).toFixed(2)} µs; ` +
    `${names[1]} ÷ ${names[0]} ${median(ratios).toFixed(3)}× (rounds ${sorted(ratios)[0].toFixed(3)}–${sorted(ratios).at(-1)?.toFixed(3)}), ${(performance.now() / 1000).toFixed(0)} s`,
);
