import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACKNOWLEDGED_SUBPROTOCOL } from 'nestjs-easy-ws';
import { TestClient } from '../../support/client.js';
import { ServerProcess } from '../../support/server-process.js';

/**
 * A promise that a handler starts and does not await, and that rejects. The server runs
 * in its own process: the point is whether that process survives, and the test runner
 * has an `unhandledRejection` listener of its own.
 */

async function welcomed(server: ServerProcess, protocols: string[] = [], headers: Record<string, string> = {}): Promise<TestClient> {
  const client = await TestClient.connect(server.url, { protocols, headers });
  const welcome = await client.next();
  assert.match(welcome, /^welcome: /);
  return client;
}

test('with catchStrayRejections, a stray rejection is the session\'s "internal server error" and a logged error; the server serves on', { timeout: 30_000 }, async () => {
  const server = await ServerProcess.start({ catchStrayRejections: true });
  try {
    assert.equal((await server.stats()).rejectionListeners, 1, 'the listener is installed while the application runs');
    const original = await welcomed(server);
    const acknowledged = await welcomed(server, [ACKNOWLEDGED_SUBPROTOCOL]);
    const bystander = await welcomed(server);
    for (const how of ['at once', 'in a timer']) {
      assert.equal(await original.request(`forget: ${how}`), 'forget: started');
      assert.equal(await original.next(), 'websocket: internal server error', how);
      assert.equal(await acknowledged.request(`forget: ${how}`), 'forget: started');
      assert.equal(await acknowledged.next(), 'websocket: {"op":"command","command":"forget","ok":false,"error":"internal server error"}', how);
    }
    const opener = await welcomed(server, [ACKNOWLEDGED_SUBPROTOCOL], { 'x-forget': '1' });
    assert.equal(await opener.next(), 'websocket: {"op":"open","ok":false,"error":"internal server error"}');
    for (const client of [original, acknowledged, bystander, opener]) {
      assert.equal(await client.request('echo: still here'), 'echo: still here', 'every session goes on');
    }

    const errors = (await server.logs()).filter((entry) => entry.level === 'error');
    assert.equal(errors.length, 5, errors.map((entry) => entry.text).join('\n---\n'));
    assert.equal(errors.filter((entry) => /^A promise that the handler of a frame of session [0-9a-f-]{36} started and did not await was rejected: forgotten at once$/.test(entry.message)).length, 2);
    assert.equal(errors.filter((entry) => /^A promise that the handler of a frame of session [0-9a-f-]{36} started and did not await was rejected: forgotten in a timer$/.test(entry.message)).length, 2);
    assert.equal(errors.filter((entry) => /^A promise that an open hook of session [0-9a-f-]{36} started and did not await was rejected: the open hook forgot this$/.test(entry.message)).length, 1);
    assert.ok(errors.every((entry) => /\n\s+at /.test(entry.text)), 'each is logged with its stack');
    assert.deepEqual(await server.closeApp(), { rejectionListeners: 0 }, 'the listener is removed on shutdown');
  } finally {
    await server.stop();
  }
});

test('with catchStrayRejections, a rejection outside any handler still ends the process, as without the option', { timeout: 30_000 }, async () => {
  const server = await ServerProcess.start({ catchStrayRejections: true });
  const client = await welcomed(server);
  await server.rejectOutside().catch(() => undefined); // the process may end before it answers
  assert.equal(await server.exited, 1);
  assert.equal((await client.closed).code, 1006);
});

test('without it (the default), a stray rejection ends the process: every client is dropped with 1006', { timeout: 30_000 }, async () => {
  const server = await ServerProcess.start();
  assert.equal((await server.stats()).rejectionListeners, 0, 'no listener is installed');
  const clients = await Promise.all([welcomed(server), welcomed(server)]);
  clients[0].send('forget: at once');
  assert.equal(await server.exited, 1);
  for (const client of clients) {
    assert.equal((await client.closed).code, 1006);
  }
});
