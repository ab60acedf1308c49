import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EasyWsOptions, RedisBrokerOptions } from 'nestjs-easy-ws';
import type { LogEntry } from './recording-logger.js';

/** What the test asks of the server process. */
export type ScenarioRequest = { id: number } & (
  | { type: 'stats' }
  | { type: 'push'; channel: string; count: number; size: number; batch: number; perSecond: number }
  | { type: 'pushSteadily'; channel: string; ms: number; size: number; perSecond: number }
  | { type: 'logs' }
  | { type: 'rejectOutside' }
  | { type: 'waitClosed'; count: number }
  | { type: 'close' }
);

/** The options of a `RedisBroker` that survive JSON: the server process makes the broker from them. */
export type RedisBrokerSettings = Pick<RedisBrokerOptions, 'url' | 'prefix' | 'commandTimeout' | 'maxPendingCommands' | 'presenceTimeout'>;

/** The server process's answer to one request; id 0 announces the port. */
export type ScenarioReply = { id: number; result?: unknown; error?: string };

/** What `stats` reports; `heapUsed` is measured after full GCs. */
export interface ServerStats {
  sessionCount: number;
  channelCount: number;
  closed: number;
  rss: number;
  heapUsed: number;
  dropped: Record<string, number>;
  /** Whether each session whose close hook has not run yet is open; false from the moment the server closes it. */
  open: Record<string, boolean>;
  /** How many `unhandledRejection` listeners the process has. */
  rejectionListeners: number;
}

/** What `push` reports: RSS before and at its highest while pushing. */
export interface PushReport {
  startRss: number;
  peakRss: number;
  ms: number;
}

/** What `pushSteadily` reports: how many pushes were made and how each settled, and RSS meanwhile. */
export interface SteadyPushReport extends PushReport {
  made: number;
  fulfilled: number;
  /** The rejections, counted by message. */
  rejected: Record<string, number>;
  /** The longest time a push took to settle, in milliseconds. */
  maxSettleMs: number;
  /** The most pushes unsettled at once. */
  maxUnsettled: number;
}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

/**
 * The scenario server (commands `echo`, `big` and `shout`; channels `news`, `rooms/:room`,
 * `ticker` with the drop policy, `chat`; a `welcome: <session id>` on open) in a child
 * process with `--expose-gc`. If it dies, every pending request rejects with its stderr.
 */
export class ServerProcess {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stderr = '';
  readonly exited: Promise<number | null>;
  /** The port it listens on, on 127.0.0.1. */
  port = 0;

  private constructor(private readonly child: ChildProcess) {
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    child.on('message', (reply: ScenarioReply) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.error !== undefined) {
        waiter?.reject(new Error(reply.error));
      } else {
        waiter?.resolve(reply.result);
      }
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    void this.exited.then((code) => {
      for (const waiter of this.pending.values()) {
        waiter.reject(new Error(`server process exited (${code}): ${this.stderr}`));
      }
      this.pending.clear();
    });
  }

  /** Starts the server with these module options (JSON-serialisable ones only), and a `RedisBroker` with `redis` if given. */
  static async start(options: EasyWsOptions = {}, redis?: RedisBrokerSettings): Promise<ServerProcess> {
    const script = fileURLToPath(new URL('./scenario-server.js', import.meta.url));
    const args = [JSON.stringify(options), JSON.stringify(redis ?? null)];
    const child = fork(script, args, { execArgv: ['--expose-gc'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const server = new ServerProcess(child);
    // The server announces its port as the answer to request 0.
    server.port = (await new Promise<unknown>((resolve, reject) => server.pending.set(0, { resolve, reject }))) as number;
    return server;
  }

  /** The WebSocket URL of the endpoint. */
  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  stats(): Promise<ServerStats> {
    return this.request({ type: 'stats' }) as Promise<ServerStats>;
  }

  /**
   * Pushes `count` frames `tick: <seq> <sent at ms> <padding of size bytes>` to
   * `channel`, `batch` per event-loop turn and at most `perSecond` per second.
   */
  push(channel: string, count: number, size: number, batch: number, perSecond: number): Promise<PushReport> {
    return this.request({ type: 'push', channel, count, size, batch, perSecond }) as Promise<PushReport>;
  }

  /**
   * Pushes frames like `push` for `ms` milliseconds at `perSecond`, each without
   * waiting for the one before to settle (as many requests of an application would),
   * and reports how they settled once all have.
   */
  pushSteadily(channel: string, ms: number, size: number, perSecond: number): Promise<SteadyPushReport> {
    return this.request({ type: 'pushSteadily', channel, ms, size, perSecond }) as Promise<SteadyPushReport>;
  }

  /** Makes the server process reject a promise outside any handler, and handle it nowhere. */
  async rejectOutside(): Promise<void> {
    await this.request({ type: 'rejectOutside' });
  }

  /** Closes the app gracefully and returns how many `unhandledRejection` listeners the process still has. */
  closeApp(): Promise<{ rejectionListeners: number }> {
    return this.request({ type: 'close' }) as Promise<{ rejectionListeners: number }>;
  }

  /** What the server logged so far. */
  logs(): Promise<LogEntry[]> {
    return this.request({ type: 'logs' }) as Promise<LogEntry[]>;
  }

  /** Resolves once `count` sessions in all have closed and their close hooks ran. */
  async waitClosed(count: number): Promise<void> {
    await this.request({ type: 'waitClosed', count });
  }

  /** Kills the process with SIGKILL, as a crash would: nothing of it runs any more. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Closes the app gracefully and returns the process's exit code (0 unless it crashed). */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) {
      await this.closeApp();
      this.child.disconnect();
    }
    return this.exited;
  }

  private request(request: { type: ScenarioRequest['type'] } & Record<string, unknown>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ ...request, id });
    });
  }
}
