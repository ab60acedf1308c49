import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { ACKNOWLEDGED_SUBPROTOCOL, CLOSE_CODES } from 'nestjs-easy-ws';
import { connectWelcomed, type ScenarioApp, startScenarioApp } from '../../support/scenario-handlers.js';

// A token comes back every 10 s, so within a test only the burst counts.
const RATE_LIMIT = { framesPerSecond: 0.1, burst: 3, maxRejections: 5 };

let running: ScenarioApp;
before(async () => {
  running = await startScenarioApp({ rateLimit: RATE_LIMIT });
});
after(() => running.close());

const connect = (protocols: string[] = []) => connectWelcomed(running.url(), { protocols });

test('over the burst a frame is not handled and gets "websocket: rate limited"; persistent abuse closes with 1008', { timeout: 10_000 }, async () => {
  const client = await connect();
  const other = await connect();
  for (let index = 1; index <= 5; index++) {
    client.send(`echo: ${index}`);
  }
  const answers = await Promise.all([1, 2, 3, 4, 5].map(() => client.next()));
  assert.deepEqual(answers, ['echo: 1', 'echo: 2', 'echo: 3', 'websocket: rate limited', 'websocket: rate limited']);
  assert.equal(await other.request('echo: mine'), 'echo: mine', 'the limit is per session');

  for (let index = 6; index <= 10; index++) {
    client.send(`echo: ${index}`);
  }
  assert.equal(await client.next(), 'websocket: rate limited');
  assert.equal(await client.next(), 'websocket: rate limited');
  // The fifth refusal within the window closes the session; the frames after it are not handled.
  assert.deepEqual(await client.closed, { code: CLOSE_CODES.policyViolation, reason: 'rate limit exceeded' });
  await running.handlers.closedAtLeast(1);
  assert.equal(running.handlers.sessions.size, 1);
  await other.close();
});

test('in acknowledged mode each refusal names the frame it answers', { timeout: 10_000 }, async () => {
  const client = await connect([ACKNOWLEDGED_SUBPROTOCOL]);
  for (const frame of ['echo: a', 'echo: b', 'echo: c', 'echo: d', 'listen: news', 'no command']) {
    client.send(frame);
  }
  const answers = await Promise.all([1, 2, 3, 4, 5, 6].map(() => client.next()));
  assert.deepEqual(answers.slice(0, 3), ['echo: a', 'echo: b', 'echo: c']);
  assert.deepEqual(
    answers.slice(3).map((answer) => JSON.parse(answer.slice('websocket: '.length))),
    [
      { op: 'command', command: 'echo', ok: false, error: 'rate limited' },
      { op: 'listen', channel: 'news', ok: false, error: 'rate limited' },
      { op: 'frame', ok: false, error: 'rate limited' },
    ],
  );
  await client.close();
});

test('tokens come back with time: the limit is a rate, not a quota', { timeout: 10_000 }, async () => {
  const fast = await startScenarioApp({ rateLimit: { framesPerSecond: 20, burst: 1 } });
  try {
    const client = await connectWelcomed(fast.url());
    client.send('echo: 1');
    client.send('echo: 2');
    assert.deepEqual([await client.next(), await client.next()], ['echo: 1', 'websocket: rate limited']);
    // Time itself is what this test is about: after 1/20 s a token is back.
    await delay(100);
    assert.equal(await client.request('echo: 3'), 'echo: 3');
    await client.close();
  } finally {
    await fast.close();
  }
});
