import type { LoadGenerator } from './load-generator.js';
import type { BenchServer } from './processes.js';
import type { ServerName } from './wire.js';

/** Round trips of one alternating round: 50 clients, 8 in flight each, as the main table's. */
const ROUND = { clients: 50, inFlight: 8, warmupMs: 300, measureMs: 1000 };

/** The indices of `count` servers in the order of round `round`: reversed every other round, so that none always goes first. */
function alternatingOrder(count: number, round: number): number[] {
  const order = Array.from({ length: count }, (_, index) => index);
  return round % 2 === 1 ? order.reverse() : order;
}

/**
 * Server CPU per round trip of several running servers, measured in alternation round
 * after round (each round in the other order than the one before), for a difference too
 * small for a few rounds to show on a machine whose figures wander by tens of percent.
 * Returns, for each server, its µs per round trip in each round.
 */
export async function alternatingRoundTrips(generator: LoadGenerator, servers: readonly BenchServer[], rounds: number, log: (line: string) => void): Promise<number[][]> {
  const groups = servers.map((server, index) => `alternating ${index}:${server.name}`);
  for (const [index, server] of servers.entries()) {
    await generator.verify(server.port, server.name);
    await generator.openGroup(groups[index], server.port, server.name, ROUND.clients);
  }
  const perRound: number[][] = servers.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const index of alternatingOrder(servers.length, round)) {
      const server = servers[index];
      let cpuAtStart = 0;
      const result = await generator.roundTrips({ group: groups[index], inFlight: ROUND.inFlight, warmupMs: ROUND.warmupMs, measureMs: ROUND.measureMs }, async () => {
        cpuAtStart = (await server.stats()).cpuMs;
      });
      perRound[index][round] = (((await server.stats()).cpuMs - cpuAtStart) * 1000) / result.count;
    }
    log(`alternating round ${round}: ${servers.map((server, index) => `${server.name} ${perRound[index][round].toFixed(2)} µs`).join(', ')} per round trip`);
  }
  for (const group of groups) {
    await generator.closeGroup(group);
  }
  return perRound;
}

/**
 * Server CPU per fan-out delivery of several servers, each run in a fresh process of
 * each, in alternating order: `listeners` listeners, a warm-up burst, then five bursts of
 * 100 pushes, of which the median counts. Returns, for each server, its µs per delivery
 * in each run.
 */
export async function alternatingFanOut(
  generator: LoadGenerator,
  start: (name: ServerName) => Promise<BenchServer>,
  names: readonly ServerName[],
  runs: number,
  listeners: number,
  log: (line: string) => void,
): Promise<number[][]> {
  const perRun: number[][] = names.map(() => []);
  for (let run = 0; run < runs; run++) {
    for (const index of alternatingOrder(names.length, run)) {
      const server = await start(names[index]);
      try {
        await generator.connect(server.port, names[index], listeners);
        await generator.listen(listeners);
        await generator.burst(100);
        const bursts: number[] = [];
        for (let burst = 0; burst < 5; burst++) {
          const cpuAtStart = (await server.stats()).cpuMs;
          await generator.burst(100);
          bursts.push((((await server.stats()).cpuMs - cpuAtStart) * 1000) / (listeners * 100));
        }
        perRun[index][run] = bursts.sort((a, b) => a - b)[2];
      } finally {
        await generator.closeAll();
        await server.stop();
      }
    }
    log(`alternating fan-out run ${run}: ${names.map((name, index) => `${name} ${perRun[index][run].toFixed(3)} µs`).join(', ')} per delivery`);
  }
  return perRun;
}
