import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { RpcClient } from './rpc.js';
import type { ServerStats } from './servers/harness.js';
import { SERVERS, type ServerName } from './wire.js';

/** The core the servers run on, and the one the load generator runs on. */
export const SERVER_CORE = 0;
export const GENERATOR_CORE = 1;

/** Whether processes can be pinned to cores here, and if not, why. */
export interface Pinning {
  readonly pinned: boolean;
  readonly note: string;
}

/** Pinning needs `taskset` (util-linux) and at least two cores. */
export function detectPinning(): Pinning {
  const cores = availableParallelism();
  if (cores < 2) {
    return { pinned: false, note: `only ${cores} core: server and load generator share it, so the figures are lower than they would be` };
  }
  const probe = spawnSync('taskset', ['-c', `${SERVER_CORE},${GENERATOR_CORE}`, 'true'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) {
    return { pinned: false, note: 'taskset (util-linux) is not available: processes are not pinned, so server and load generator may share a core' };
  }
  return { pinned: true, note: `server pinned to core ${SERVER_CORE}, load generator to core ${GENERATOR_CORE} (taskset)` };
}

/**
 * Starts a bench process on `core` with as many open files as the hard limit allows
 * (10,000 connections need more than the usual soft limit of 1024), talking over IPC.
 */
export function startProcess(script: string, args: readonly string[], options: { pinning: Pinning; core: number; nodeArgs?: readonly string[]; name: string }): RpcClient {
  const pin = options.pinning.pinned ? ['taskset', '-c', String(options.core)] : [];
  const child = spawn(
    'sh',
    ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', ...pin, process.execPath, ...(options.nodeArgs ?? []), script, ...args],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  return new RpcClient(child, options.name);
}

/** A bench script next to this module, as compiled. */
export function benchScript(relative: string): string {
  return fileURLToPath(new URL(relative, import.meta.url));
}

/** One running bench server. */
export class BenchServer {
  private constructor(
    readonly name: ServerName,
    private readonly rpc: RpcClient,
    readonly port: number,
  ) {}

  /** Starts the server on the server core; resolves once it listens. */
  static async start(name: ServerName, pinning: Pinning, nodeArgs: readonly string[] = []): Promise<BenchServer> {
    const { script, args } = SERVERS[name];
    const rpc = startProcess(benchScript(`./servers/${script}`), args, {
      pinning,
      core: SERVER_CORE,
      nodeArgs: ['--expose-gc', ...nodeArgs],
      name: SERVERS[name].label,
    });
    return new BenchServer(name, rpc, await rpc.call<number>('port'));
  }

  /** RSS and CPU time; with `gc`, after two full collections, for memory figures. */
  stats(gc = false): Promise<ServerStats> {
    return this.rpc.call<ServerStats>('stats', { gc });
  }

  /** Asks the server to exit, and waits until it has. */
  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.rpc.child.once('exit', resolve));
    if (this.rpc.child.exitCode === null) {
      await this.rpc.call('exit').catch(() => undefined);
      await exited;
    }
  }
}
