/** What `cross-instance.ts` and the processes it forks say to each other over IPC. */

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

/**
 * A time in ms with sub-ms precision that every process on the machine agrees on: the
 * monotonic clock. (The wall clock at each process's start plus its own elapsed time
 * does not: a step of the wall clock between two processes' starts, as a virtual
 * machine's clock takes now and then, showed as latencies of minus 1.4 s.)
 */
export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
