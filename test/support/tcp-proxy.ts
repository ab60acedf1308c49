import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a server, so that a test can cut a client's
 * connection the way a network does (both sides see it drop, no close handshake)
 * rather than by closing the client, and keep it from reconnecting for a while.
 */
export class TcpProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  private refusing = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private targetPort: number,
  ) {}

  /** Starts a proxy to `targetPort` of 127.0.0.1 on a free port. */
  static async start(targetPort: number): Promise<TcpProxy> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const proxy = new TcpProxy(server, (server.address() as { port: number }).port, targetPort);
    server.on('connection', (client) => proxy.accept(client));
    return proxy;
  }

  /** Sends new connections to `targetPort` from now on, as a load balancer may after a reconnect. */
  retarget(targetPort: number): void {
    this.targetPort = targetPort;
  }

  /** The WebSocket URL of `path` through the proxy. */
  url(path = '/ws'): string {
    return `ws://127.0.0.1:${this.port}${path}`;
  }

  /** How many connections pass through it now. */
  get connections(): number {
    return this.pairs.size;
  }

  /** Drops every connection at once, with a reset on both sides. */
  cut(): void {
    for (const [client, upstream] of this.pairs) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    this.pairs.clear();
  }

  /** Stops passing on what the server sends, as a client that stopped reading would; the server's buffer then fills. */
  stall(): void {
    for (const [, upstream] of this.pairs) {
      upstream.unpipe();
      upstream.pause();
    }
  }

  /** Passes on what the server sends again. */
  resume(): void {
    for (const [client, upstream] of this.pairs) {
      upstream.pipe(client);
      upstream.resume();
    }
  }

  /** While refusing, new connections are reset as they arrive, as by a network that is down. */
  refuse(refusing: boolean): void {
    this.refusing = refusing;
  }

  async close(): Promise<void> {
    this.cut();
    this.server.close();
    await once(this.server, 'close');
  }

  private accept(client: Socket): void {
    if (this.refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(this.targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const drop = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of pair) {
      socket.on('error', drop);
      socket.on('close', drop);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
