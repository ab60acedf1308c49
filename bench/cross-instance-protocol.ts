/** What `cross-instance.ts` and the processes it forks say to each other over IPC. */
import { performance } from 'node:perf_hooks';

/** The channel the benchmark pushes to. */
export const BENCH_CHANNEL = 'bench';

/** How the load generator asks an instance to push. */
export type PushRequest =
  /** As fast as they go, with `inFlight` pushes outstanding, for `durationMs`. */
  | { readonly mode: 'flood'; readonly durationMs: number; readonly inFlight: number }
  /** `rate` pushes a second, for `durationMs`. */
  | { readonly mode: 'paced'; readonly durationMs: number; readonly rate: number };

/** How the load generator asks the plain ioredis publisher to flood a Redis channel. */
export interface CeilingRequest {
  readonly channel: string;
  readonly durationMs: number;
  readonly inFlight: number;
}

/** What a forked process tells the load generator: it is ready (an instance: on which port), or how many pushes it made. */
export type ServerReport = { readonly listening: number } | { readonly ready: true } | { readonly pushed: number; readonly failed: number };

/** A wall-clock time in ms with sub-ms precision that every process on the machine agrees on. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}
