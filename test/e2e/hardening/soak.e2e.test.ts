import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import WebSocket from 'ws';
import { ACKNOWLEDGED_SUBPROTOCOL } from 'nestjs-easy-ws';
import { ServerProcess } from '../../support/server-process.js';

/**
 * 20,000 connect/listen/disconnect cycles, 50 at a time, against a server in its own
 * process (started with --expose-gc, so that its heap is measured after full GCs):
 * nothing of a session may stay behind.
 */
const CYCLES = 20_000;
const WARM_UP_CYCLES = 2_000;
const CONCURRENCY = 50;
const HEAP_TOLERANCE = 0.1;

/** Resolves with the next `count` frames of `socket`, as text. */
function frames(socket: WebSocket, count: number): Promise<string[]> {
  return new Promise((resolve) => {
    const received: string[] = [];
    const onMessage = (data: Buffer) => {
      received.push(data.toString());
      if (received.length === count) {
        socket.off('message', onMessage);
        resolve(received);
      }
    };
    socket.on('message', onMessage);
  });
}

/** One cycle: connect, listen to a channel of its own and to a shared one, disconnect. */
async function cycle(url: string, index: number): Promise<void> {
  const socket = new WebSocket(url, [ACKNOWLEDGED_SUBPROTOCOL]);
  const welcome = frames(socket, 1);
  await once(socket, 'open');
  await welcome;
  const acks = frames(socket, 2);
  socket.send(`listen: rooms/${index}`);
  socket.send('listen: news');
  for (const ack of await acks) {
    assert.match(ack, /^websocket: \{"op":"listen","channel":"[^"]+","ok":true\}$/);
  }
  const closed = once(socket, 'close');
  socket.close();
  await closed;
}

async function runCycles(url: string, first: number, count: number): Promise<void> {
  let next = first;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < first + count) {
        await cycle(url, next++);
      }
    }),
  );
}

let server: ServerProcess;
before(async () => {
  server = await ServerProcess.start();
});
after(async () => {
  assert.equal(await server.stop(), 0);
});

test(`${CYCLES} connect/listen/disconnect cycles leave no session, no channel and no heap behind`, { timeout: 120_000 }, async () => {
  await runCycles(server.url, 0, WARM_UP_CYCLES);
  await server.waitClosed(WARM_UP_CYCLES);
  const baseline = await server.stats();

  const started = Date.now();
  await runCycles(server.url, WARM_UP_CYCLES, CYCLES);
  await server.waitClosed(WARM_UP_CYCLES + CYCLES);
  const ms = Date.now() - started;
  const end = await server.stats();

  const change = (end.heapUsed - baseline.heapUsed) / baseline.heapUsed;
  console.log(
    `# soak: ${CYCLES} cycles in ${ms} ms; heap after GC ${(baseline.heapUsed / 2 ** 20).toFixed(2)} MiB -> ` +
      `${(end.heapUsed / 2 ** 20).toFixed(2)} MiB (${(change * 100).toFixed(2)} %); RSS ${(end.rss / 2 ** 20).toFixed(1)} MiB`,
  );
  assert.deepEqual({ sessions: end.sessionCount, channels: end.channelCount }, { sessions: 0, channels: 0 });
  assert.ok(Math.abs(change) <= HEAP_TOLERANCE, `heap changed by ${(change * 100).toFixed(2)} %, tolerance ${HEAP_TOLERANCE * 100} %`);
});
