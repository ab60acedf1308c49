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
 * The open files a bench process asks for: the scale curve's 50,000 connections and
 * some to spare. Only root (with CAP_SYS_RESOURCE) may raise the hard limit that far;
 * others get their hard limit, and the bench says what did not fit.
 */
export const WANTED_OPEN_FILES = 60_000;

/**
 * Starts a bench process on `core` with as many open files as it may have (see
 * `WANTED_OPEN_FILES`), talking over IPC.
 */
export function startProcess(script: string, args: readonly string[], options: { pinning: Pinning; core: number; nodeArgs?: readonly string[]; name: string }): RpcClient {
  const pin = options.pinning.pinned ? ['taskset', '-c', String(options.core)] : [];
  const raiseLimit = `ulimit -n ${WANTED_OPEN_FILES} 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null`;
  const child = spawn('sh', ['-c', `${raiseLimit}; exec "$@"`, 'sh', ...pin, process.execPath, ...(options.nodeArgs ?? []), script, ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
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

  /**
   * Starts the server on the server core; resolves once it listens. `args` go to the
   * server after its own (options such as a heartbeat), `nodeArgs` to Node.
   */
  static async start(name: ServerName, pinning: Pinning, options: { args?: readonly string[]; nodeArgs?: readonly string[] } = {}): Promise<BenchServer> {
    const { script, args } = SERVERS[name];
    const rpc = startProcess(benchScript(`./servers/${script}`), [...args, ...(options.args ?? [])], {
      pinning,
      core: SERVER_CORE,
      nodeArgs: ['--expose-gc', ...(options.nodeArgs ?? [])],
      name: SERVERS[name].label,
    });
    try {
      return new BenchServer(name, rpc, await rpc.call<number>('port'));
    } catch (error) {
      rpc.child.kill('SIGKILL');
      throw error;
    }
  }

  /** RSS and CPU time; with `gc`, after two full collections, for memory figures. */
  stats(gc = false): Promise<ServerStats> {
    return this.rpc.call<ServerStats>('stats', { gc });
  }

  /** Asks the server to exit, and waits until it has; one that does not within 10 s is killed. */
  async stop(): Promise<void> {
    const { child } = this.rpc;
    if (child.exitCode !== null || child.signalCode !== null) {
      return;
    }
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await this.rpc.call('exit').catch(() => undefined);
    await exited;
    clearTimeout(killer);
  }
}
