/** What `cross-instance.ts` and the instances it forks say to each other over IPC. */
import { performance } from 'node:perf_hooks';

/** The channel the benchmark pushes to. */
export const BENCH_CHANNEL = 'bench';

/** How the load generator asks an instance to push. */
export type PushRequest =
  /** As fast as `concurrency` awaited push loops go, for `durationMs`. */
  | { readonly mode: 'flood'; readonly durationMs: number; readonly concurrency: number }
  /** `rate` pushes a second, for `durationMs`. */
  | { readonly mode: 'paced'; readonly durationMs: number; readonly rate: number };

/** What an instance tells the load generator. */
export type ServerReport = { readonly listening: number } | { readonly pushed: number; readonly failed: number };

/** A wall-clock time in ms with sub-ms precision that every process on the machine agrees on. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}
