/**
 * What each priced feature costs a push, in-process: our server with the feature on,
 * next to the same server without, each in a fresh process, timing bursts of pushes to
 * the same listeners, run by run (so that the ratios compare figures of one run).
 */
import type { PricedFeature } from './features.js';
import type { LoadGenerator } from './load-generator.js';
import { BenchServer, type Pinning } from './processes.js';
import { pricingKey, type Results, summarise } from './report.js';

/** How much pricing the bench does. */
export interface PricingPlan {
  readonly runs: number;
  readonly listeners: number;
  /** Timed bursts per server, of `pushes` each, after one that warms up. */
  readonly bursts: number;
  readonly pushes: number;
}

/** Measures plain pushes and each of `features`, the order turning from run to run. */
export async function measurePricing(
  generator: LoadGenerator,
  pinning: Pinning,
  plan: PricingPlan,
  features: readonly PricedFeature[],
  results: Results,
  log: (message: string) => void,
): Promise<void> {
  const variants: PricedFeature[] = [{ label: 'plain' }, ...features];
  for (let run = 0; run < plan.runs; run++) {
    for (let index = 0; index < variants.length; index++) {
      const feature = variants[(index + run) % variants.length];
      const args = ['--module-options', JSON.stringify(feature.moduleOptions ?? {}), '--channel-options', JSON.stringify(feature.channelOptions ?? {})];
      const server = await BenchServer.start('ours', pinning, { args });
      try {
        await generator.connect(server.port, 'ours', plan.listeners);
        await generator.listen(plan.listeners);
        await generator.burst(plan.pushes); // warm-up: the first burst compiles the hot paths
        const rates: number[] = [];
        const cpuAtStart = (await server.stats()).cpuMs;
        for (let burst = 0; burst < plan.bursts; burst++) {
          rates.push(((plan.listeners * plan.pushes) / (await generator.burst(plan.pushes)).ms) * 1000);
        }
        const micros = (((await server.stats()).cpuMs - cpuAtStart) * 1000) / (plan.bursts * plan.pushes);
        const rate = summarise(rates)?.median ?? Number.NaN;
        results.record(pricingKey(feature.label, 'rate'), 'ours', run, rate);
        results.record(pricingKey(feature.label, 'cpu'), 'ours', run, micros);
        log(`pushes, ${feature.label}: ${Math.round(rate)} deliveries/s to ${plan.listeners} listeners, ${micros.toFixed(1)} µs of server CPU per push`);
      } finally {
        await generator.closeAll();
        await server.stop();
      }
    }
  }
}
