import type { RoundTripResult } from './load/generator.js';
import { benchScript, GENERATOR_CORE, type Pinning, startProcess } from './processes.js';
import type { RpcClient } from './rpc.js';
import type { ServerName } from './wire.js';

/** The runner's handle on the load generator process. */
export class LoadGenerator {
  private constructor(private readonly rpc: RpcClient) {}

  /** Starts the generator on its own core. */
  static start(pinning: Pinning): LoadGenerator {
    return new LoadGenerator(startProcess(benchScript('./load/generator.js'), [], { pinning, core: GENERATOR_CORE, name: 'load generator' }));
  }

  /** The generator's open-file limit: how many connections it can hold. */
  async openFiles(): Promise<number | undefined> {
    return (await this.rpc.call<{ openFiles?: number }>('limits')).openFiles;
  }

  /** Checks with a real client of the server's kind that it answers as the raw clients expect. */
  verify(port: number, server: ServerName): Promise<void> {
    return this.rpc.call('verify', { port, server });
  }

  /** Opens `count` connections to `server`, kept as `group` for round trips until `closeGroup`. */
  openGroup(group: string, port: number, server: ServerName, count: number): Promise<void> {
    return this.rpc.call('openGroup', { group, port, server, count });
  }

  closeGroup(group: string): Promise<void> {
    return this.rpc.call('closeGroup', { group });
  }

  /**
   * Runs round trips on `group`; `onWindow` runs as the measured window begins, and
   * the result comes when it ends, so that the caller can read the server's CPU time for it.
   */
  async roundTrips(args: { group: string; inFlight: number; warmupMs: number; measureMs: number }, onWindow: () => Promise<unknown>): Promise<RoundTripResult> {
    await this.rpc.call('startRoundTrips', args);
    await onWindow();
    return this.rpc.call<RoundTripResult>('roundTrips');
  }

  /** Opens `count` idle connections and one control connection to `server`. */
  connect(port: number, server: ServerName, count: number): Promise<number> {
    return this.rpc.call<number>('connect', { port, server, count });
  }

  /** Makes the first `count` connections listen; resolves once each was acknowledged. */
  listen(count: number): Promise<void> {
    return this.rpc.call('listen', { count });
  }

  /**
   * Milliseconds until every listener received all `pushes` pushes of one burst, the
   * generator's CPU time meanwhile, and the pings that arrived meanwhile.
   */
  burst(pushes: number): Promise<{ ms: number; generatorCpuMs: number; pings: number }> {
    return this.rpc.call('burst', { pushes });
  }

  /** Resolves at the end of the next whole heartbeat round: once the server has pinged every connection since the call. */
  heartbeatRound(): Promise<void> {
    return this.rpc.call('heartbeatRound');
  }

  /** Closes every connection. */
  closeAll(): Promise<void> {
    return this.rpc.call('closeAll');
  }

  /** Ends the generator process. */
  stop(): void {
    this.rpc.child.disconnect();
  }
}
