import assert from 'node:assert/strict';
import { once } from 'node:events';
import WebSocket from 'ws';
import { ACKNOWLEDGED_SUBPROTOCOL } from 'nestjs-easy-ws';

/**
 * A client in acknowledged mode that listens to one channel and records the number
 * and delay of each `tick: <seq> <sent at ms> …` frame that `ServerProcess.push` and
 * `pushSteadily` send.
 */
export class TickListener {
  readonly seqs: number[] = [];
  readonly delays: number[] = [];
  /** The frames that were not ticks, in order. */
  readonly others: string[] = [];
  private wanted: { count: number; resolve: () => void } | undefined;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(
    readonly socket: WebSocket,
    readonly sessionId: string,
  ) {
    socket.on('message', (data: Buffer) => {
      const text = data.toString();
      if (!text.startsWith('tick: ')) {
        this.others.push(text);
        return;
      }
      const [seq, sentAt] = text.slice(6, text.indexOf(' ', text.indexOf(' ', 6) + 1)).split(' ');
      this.seqs.push(Number(seq));
      this.delays.push(Date.now() - Number(sentAt));
      if (this.wanted && this.seqs.length >= this.wanted.count) {
        this.wanted.resolve();
      }
    });
    this.closed = once(socket, 'close').then(([code, reason]) => ({ code: code as number, reason: String(reason) }));
  }

  /** Connects to `url`, reads the welcome, and listens to `channel`. */
  static async listen(url: string, channel: string): Promise<TickListener> {
    const socket = new WebSocket(url, [ACKNOWLEDGED_SUBPROTOCOL]);
    const [welcome] = (await once(socket, 'message')) as [Buffer];
    socket.send(`listen: ${channel}`);
    const [ack] = (await once(socket, 'message')) as [Buffer];
    assert.deepEqual(JSON.parse(ack.toString().slice('websocket: '.length)), { op: 'listen', channel, ok: true });
    return new TickListener(socket, welcome.toString().slice('welcome: '.length));
  }

  /** Resolves once `count` ticks have arrived. */
  received(count: number): Promise<void> {
    return this.seqs.length >= count ? Promise.resolve() : new Promise((resolve) => (this.wanted = { count, resolve }));
  }

  /** Forgets what arrived so far (after a warm-up). */
  reset(): void {
    this.seqs.length = 0;
    this.delays.length = 0;
  }
}
