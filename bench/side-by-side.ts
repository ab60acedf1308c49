/**
 * `node dist/bench/side-by-side.js A B [rounds] [--fan-out]`: server CPU per round trip
 * (or, with `--fan-out`, per delivery of a push to 1000 listeners) of two bench servers
 * (names of `SERVERS`), measured in alternation, for a cost too small for the full
 * bench's few rounds to show; prints each round and the median of the per-round ratios
 * B ÷ A. A server against itself (`ours ours`) shows the machine's noise.
 */
import { alternatingFanOut, alternatingRoundTrips } from './alternating.js';
import { LoadGenerator } from './load-generator.js';
import { BenchServer, detectPinning } from './processes.js';
import { SERVERS, type ServerName } from './wire.js';

const fanOut = process.argv.includes('--fan-out');
const [first = 'ours', second = 'oursMetrics', roundsText = '15'] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const names = [first, second] as ServerName[];
for (const name of names) {
  if (!(name in SERVERS)) {
    throw new Error(`no bench server ${name}; there are ${Object.keys(SERVERS).join(', ')}`);
  }
}
const pinning = detectPinning();
const generator = LoadGenerator.start(pinning);
const rounds = Number(roundsText);
let perRound: number[][];
try {
  if (fanOut) {
    perRound = await alternatingFanOut(generator, (name) => BenchServer.start(name, pinning), names, rounds, 1000, console.log);
  } else {
    const servers = await Promise.all(names.map((name) => BenchServer.start(name, pinning)));
    try {
      perRound = await alternatingRoundTrips(generator, servers, rounds, console.log);
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
  }
} finally {
  generator.stop();
}
const unit = fanOut ? 'per delivery' : 'per round trip';
const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ratios = perRound[1].map((value, round) => value / perRound[0][round]);
console.log(
  `median: ${names[0]} ${median(perRound[0]).toFixed(3)} µs, ${names[1]} ${median(perRound[1]).toFixed(3)} µs ${unit}; ` +
    `${names[1]} ÷ ${names[0]} ${median(ratios).toFixed(3)}× (rounds ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)})`,
);
