import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CLOSE_CODES } from 'nestjs-easy-ws';
import { TestClient } from '../../support/client.js';
import { ServerProcess } from '../../support/server-process.js';
import { until } from '../../support/until.js';

/**
 * Replies of 5 MB, five times maxBufferedBytes (1 MiB by default), asked for by a
 * client that reads as fast as it can and by one that has stopped reading. The server
 * runs in its own process, so that its RSS is its own.
 */
const REPLY_BYTES = 5_000_000;
const BIG = `big: ${REPLY_BYTES}`;
const REPLY_LENGTH = 'big: '.length + REPLY_BYTES;
/** Twice maxBufferedBytes and two frames are some 12 MB; the 20 replies asked for would be 100 MB. */
const RSS_GROWTH_BOUND = 40 * 1024 * 1024;

let server: ServerProcess;
let closedSessions = 0;
before(async () => {
  server = await ServerProcess.start();
});
after(async () => {
  assert.equal(await server.stop(), 0);
});

async function welcomed(): Promise<{ client: TestClient; id: string }> {
  const client = await TestClient.connect(server.url);
  const welcome = await client.next();
  return { client, id: welcome.slice('welcome: '.length) };
}

test('a client that reads is not closed when the next reply finds a 5 MB reply still in its buffer', { timeout: 60_000 }, async () => {
  const { client } = await welcomed();
  const small = Array.from({ length: 50 }, (_, index) => `echo: right behind it ${index}`);
  for (let round = 0; round < 5; round++) {
    client.send(BIG);
    small.forEach((frame) => client.send(frame));
    assert.equal((await client.next()).length, REPLY_LENGTH, `round ${round}`);
    for (const frame of small) {
      assert.equal(await client.next(), frame, `round ${round}`);
    }
  }
  assert.equal(client.socket.readyState, client.socket.OPEN);
  await client.close();
  await server.waitClosed(++closedSessions);
});

test('a client that stopped reading is closed with 4000 once its backlog passes the bound, at a bounded cost', { timeout: 60_000 }, async () => {
  const { client, id } = await welcomed();
  const before = await server.stats();
  client.socket.pause();
  for (let request = 0; request < 20; request++) {
    client.send(BIG);
  }
  const judged = await until('the server to close the stalled session', () => server.stats(), (stats) => stats.open[id] === false, 20_000);
  client.socket.resume();
  const replies = await client.remaining();
  const growth = judged.rss - before.rss;
  console.log(`# stalled client: ${replies.length} replies of 5 MB written before the close; server RSS +${(growth / 2 ** 20).toFixed(1)} MiB`);
  assert.deepEqual(await client.closed, { code: CLOSE_CODES.slowConsumer, reason: 'slow consumer' });
  assert.deepEqual(
    replies.map((reply) => reply.length),
    [REPLY_LENGTH, REPLY_LENGTH],
    'the reply that found the buffer empty, and the first of the backlog',
  );
  assert.ok(growth < RSS_GROWTH_BOUND, `RSS grew by ${growth} bytes`);
  await server.waitClosed(++closedSessions);
});
