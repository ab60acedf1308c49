import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { until } from './until.js';
import { freePort } from './ports.js';

/**
 * A `redis-server` of the test's own, on a free port of 127.0.0.1, that the test may
 * kill, freeze and restart without disturbing anyone else's Redis.
 */
export class PrivateRedis {
  private server: ChildProcess | undefined;
  private readonly killOnExit = (): void => {
    this.server?.kill('SIGKILL');
  };

  private constructor(
    readonly port: number,
    private readonly extraArgs: string[],
  ) {}

  /** Starts a server on a free port, with these extra `redis-server` arguments, and waits until it answers. */
  static async start(extraArgs: string[] = []): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), extraArgs);
    await redis.restart();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server again on the same port (no data kept) and waits until it answers. */
  async restart(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.extraArgs];
    const server = spawn('redis-server', args, { stdio: 'ignore' });
    this.server = server;
    process.once('exit', this.killOnExit);
    const failed = once(server, 'error').then(([error]) => {
      throw error;
    });
    await Promise.race([failed, until('redis-server to answer PING', () => ping(this.port), (answered) => answered)]);
  }

  /** Kills the server with SIGKILL, as a crash would, and waits until it is gone. */
  async kill(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    process.off('exit', this.killOnExit);
    if (server && server.exitCode === null && server.signalCode === null) {
      const exited = once(server, 'exit');
      server.kill('SIGKILL');
      await exited;
    }
  }

  /** Freezes (SIGSTOP) or thaws (SIGCONT) the server: connections stay open but nothing is answered. */
  freeze(frozen: boolean): void {
    this.server?.kill(frozen ? 'SIGSTOP' : 'SIGCONT');
  }
}

/**
 * A Redis Cluster of its own: `size` masters on free ports, each owning an equal share
 * of the hash slots, no replicas. Its node files live in a temporary directory.
 */
export class PrivateRedisCluster {
  private constructor(
    readonly nodes: PrivateRedis[],
    private readonly busPorts: number[],
    private readonly directory: string,
  ) {}

  static async start(size = 3): Promise<PrivateRedisCluster> {
    const directory = await mkdtemp(join(tmpdir(), 'easy-ws-cluster-'));
    const busPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
    const nodes = await Promise.all(
      busPorts.map((busPort, index) =>
        PrivateRedis.start(['--cluster-enabled', 'yes', '--cluster-port', String(busPort), '--cluster-config-file', `node-${index}.conf`, '--dir', directory]),
      ),
    );
    const cluster = new PrivateRedisCluster(nodes, busPorts, directory);
    try {
      await cluster.form();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The addresses ioredis starts from. */
  get startupNodes(): Array<{ host: string; port: number }> {
    return this.nodes.map(({ port }) => ({ host: '127.0.0.1', port }));
  }

  /** Sums a per-node count over every node, e.g. `PUBSUB SHARDNUMSUB` of a channel that one shard owns. */
  async sum(...command: string[]): Promise<number> {
    const counts = await Promise.all(
      this.nodes.map((node) => withConnection(node.port, async (redis) => ((await redis.call(command[0], ...command.slice(1))) as [string, number])[1])),
    );
    return counts.reduce((total, count) => total + count, 0);
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.kill()));
    await rm(this.directory, { recursive: true, force: true });
  }

  /** Gives each node its slots, introduces them to each other, and waits until the cluster says it is ok. */
  private async form(): Promise<void> {
    const share = Math.ceil(SLOTS / this.nodes.length);
    await Promise.all(
      this.nodes.map((node, index) =>
        withConnection(node.port, async (redis) => {
          await redis.call('CLUSTER', 'ADDSLOTSRANGE', String(index * share), String(Math.min((index + 1) * share, SLOTS) - 1));
          for (const [otherIndex, other] of this.nodes.entries()) {
            if (other !== node) {
              await redis.call('CLUSTER', 'MEET', '127.0.0.1', String(other.port), String(this.busPorts[otherIndex]));
            }
          }
        }),
      ),
    );
    for (const node of this.nodes) {
      await until(
        `node ${node.port} to see the cluster ok`,
        () => withConnection(node.port, (redis) => redis.call('CLUSTER', 'INFO') as Promise<string>),
        (info) => info.includes('cluster_state:ok'),
        10_000,
      );
    }
  }
}

const SLOTS = 16384;

/** Runs `use` on a connection of its own to the Redis on `port`, which fails at once if none answers. */
export async function withConnection<T>(port: number, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
  redis.on('error', () => undefined); // a failure reaches the caller through the rejected command
  try {
    await redis.connect();
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

/** Whether a Redis answers PING on `port`. */
function ping(port: number): Promise<boolean> {
  return withConnection(port, (redis) => redis.ping()).then(
    () => true,
    () => false,
  );
}
