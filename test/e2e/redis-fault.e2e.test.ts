import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { Message, PushService } from 'nestjs-easy-ws';
import type { RunningApp } from '../support/app.js';
import type { TestClient } from '../support/client.js';
import { PrivateRedis, withConnection } from '../support/redis-server.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { join, listen, pushVia, startRelay, uniquePrefix } from '../support/relay.js';
import { until } from '../support/until.js';

const prefix = uniquePrefix('fault');
const TIMEOUT = { timeout: 30_000 };
const OUTAGE = /^Redis is unavailable \(.+\): pushes reach this instance only until it is back$/;
const BACK = 'Redis is back: pushes reach every instance again';

let redis: PrivateRedis;
let apps: RunningApp[];
let loggers: RecordingLogger[];
const clients: TestClient[] = [];

before(async () => {
  redis = await PrivateRedis.start();
  loggers = [new RecordingLogger(), new RecordingLogger()];
  apps = await Promise.all(loggers.map((logger) => startRelay({ url: redis.url, prefix, logger })));
});

after(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await Promise.all((apps ?? []).map((app) => app.close()));
  await redis?.kill();
});

async function joined(app: RunningApp): Promise<{ client: TestClient; id: string }> {
  const session = await join(app);
  clients.push(session.client);
  return session;
}

/** How many connections of a private Redis subscribe each channel, by name without the prefix. */
function subscriptions(names: string[], server = redis): Promise<number[]> {
  return withConnection(server.port, async (inspector) => {
    const reply = (await inspector.call('PUBSUB', 'NUMSUB', ...names.map((name) => `${prefix}${name}`))) as Array<string | number>;
    return names.map((_, index) => reply[index * 2 + 1] as number);
  });
}

/**
 * Runs `action` while the private Redis is frozen, thawing it from a timer, and tells
 * whether the action finished only after the thaw, as it must when it waits for Redis.
 */
async function whileFrozen<T>(action: () => Promise<T>): Promise<{ waitedForRedis: boolean; result: T }> {
  redis.freeze(true);
  let thawed = false;
  setTimeout(() => {
    thawed = true;
    redis.freeze(false);
  }, 300);
  const result = await action();
  return { waitedForRedis: thawed, result };
}

test('a listen is acknowledged, and a session welcomed, only once Redis has confirmed the subscription', TIMEOUT, async () => {
  const { client } = await joined(apps[0]);
  const listening = await whileFrozen(() => listen(client, 'rooms/slow'));
  assert.equal(listening.waitedForRedis, true);
  await pushVia(apps[1], { op: 'toChannel', channel: 'rooms/slow', command: 'slow', data: 'made it' });
  assert.equal(await client.next(), 'slow: made it');

  const welcomed = await whileFrozen(() => joined(apps[0]));
  assert.equal(welcomed.waitedForRedis, true);
  await pushVia(apps[1], { op: 'toSession', sessionId: welcomed.result.id, command: 'direct', data: 'made it' });
  assert.equal(await welcomed.result.client.next(), 'direct: made it');
});

test('a Redis crash: the apps keep serving locally, log it once, and deliver again after the restart without clients reconnecting', TIMEOUT, async () => {
  const a1 = await joined(apps[0]);
  const a2 = await joined(apps[0]);
  const b1 = await joined(apps[1]);
  await listen(a1.client, 'news');
  await listen(b1.client, 'news');
  await pushVia(apps[1], { op: 'toChannel', channel: 'news', command: 'news', data: 'before' });
  assert.equal(await a1.client.next(), 'news: before');
  assert.equal(await b1.client.next(), 'news: before');

  await redis.kill();
  for (const logger of loggers) {
    await until('the outage to be logged', () => logger.at('warn'), (lines) => lines.length > 0);
  }

  // Commands and local pushes go on; a push says it reached this instance only.
  assert.equal(await a1.client.request('echo: still here'), 'echo: still here');
  for (let index = 0; index < 5; index++) {
    const outcome = await pushVia(apps[0], { op: 'toChannel', channel: 'news', command: 'news', data: `during ${index}` });
    assert.equal(outcome.reached, 'this instance only');
    assert.match(outcome.error ?? '', /^Redis is unavailable \(.+\), so this channel push reached this instance only$/);
    assert.equal(await a1.client.next(), `news: during ${index}`);
  }
  const lost = await pushVia(apps[1], { op: 'toSession', sessionId: a1.id, command: 'direct', data: 'during the outage' });
  assert.equal(lost.reached, 'this instance only');
  // A channel opened during the outage is acknowledged at once, and subscribed in Redis once it is back.
  await listen(a2.client, 'rooms/late');

  await redis.restart();
  for (const logger of loggers) {
    await until('the recovery to be logged', () => logger.at('log'), (lines) => lines.length > 0, 10_000);
  }
  await until(
    'every subscription to be restored',
    () => subscriptions(['c:news', 'c:rooms/late', 'broadcast', `s:${a1.id}`, `s:${a2.id}`, `s:${b1.id}`]),
    (counts) => counts.join() === [2, 1, 2, 1, 1, 1].join(),
  );

  await pushVia(apps[1], { op: 'toChannel', channel: 'news', command: 'news', data: 'after' });
  await pushVia(apps[1], { op: 'toChannel', channel: 'rooms/late', command: 'late', data: 'after' });
  await pushVia(apps[1], { op: 'toSession', sessionId: a1.id, command: 'direct', data: 'after' });
  // Nothing published during the outage is replayed: the next frames are those sent after it.
  assert.equal(await a1.client.next(), 'news: after');
  assert.equal(await a1.client.next(), 'direct: after');
  assert.equal(await b1.client.next(), 'news: after');
  assert.equal(await a2.client.next(), 'late: after');

  for (const { client } of [a1, a2, b1]) {
    assert.equal(client.socket.readyState, WebSocket.OPEN, 'the client never lost its connection');
  }
  for (const logger of loggers) {
    assert.equal(logger.at('warn').length, 1, `one outage line, not one per push: ${JSON.stringify(logger.entries)}`);
    assert.match(logger.at('warn')[0], OUTAGE);
    assert.deepEqual(logger.at('log'), [BACK]);
    assert.deepEqual(logger.at('error'), []);
  }
});

test('an instance that starts while Redis is down serves locally, and joins in once Redis is up', TIMEOUT, async () => {
  const late = await PrivateRedis.start();
  await late.kill(); // a port where no Redis answers yet
  const logger = new RecordingLogger();
  const lonely = await startRelay({ url: late.url, prefix, logger });
  let other: RunningApp | undefined;
  try {
    assert.equal(logger.at('warn').length, 1, 'the failed first connection is logged');
    assert.match(logger.at('warn')[0], OUTAGE);
    const { client } = await joined(lonely);
    await listen(client, 'news');
    const outcome = await pushVia(lonely, { op: 'toChannel', channel: 'news', command: 'news', data: 'alone' });
    assert.equal(outcome.reached, 'this instance only');
    assert.equal(await client.next(), 'news: alone');

    await late.restart();
    await until('the instance to report Redis back', () => logger.at('log'), (lines) => lines.length > 0, 10_000);
    other = await startRelay({ url: late.url, prefix });
    await until('the news subscription to be made', () => subscriptions(['c:news'], late), ([count]) => count === 1);
    assert.deepEqual(await pushVia(other, { op: 'toChannel', channel: 'news', command: 'news', data: 'together' }), { reached: 'every instance' });
    assert.equal(await client.next(), 'news: together');
    assert.deepEqual(logger.at('warn').length, 1);
    assert.deepEqual(logger.at('log'), [BACK]);
  } finally {
    await Promise.all([lonely.close(), other?.close()]);
    await late.kill();
  }
});

test('pushes waiting for a slow Redis are capped: one more rejects at once, those waiting go through in order once Redis answers', TIMEOUT, async () => {
  const capped = await startRelay({ url: redis.url, prefix, commandTimeout: 10_000, maxPendingCommands: 50 });
  try {
    const local = await joined(capped);
    const remote = await joined(apps[1]);
    await listen(local.client, 'rooms/capped');
    await listen(remote.client, 'rooms/capped');
    const push = capped.app.get(PushService);

    redis.freeze(true);
    const outcomes: Array<'pending' | 'fulfilled' | string> = [];
    const pushes = Array.from({ length: 80 }, (_, index) => {
      outcomes[index] = 'pending';
      return push.toChannel('rooms/capped', new Message('capped', String(index))).then(
        () => (outcomes[index] = 'fulfilled'),
        (error: Error) => (outcomes[index] = error.message),
      );
    });
    // Every push reached the local listener at once, the first 50 wait for Redis, the others were refused at once.
    for (let index = 0; index < 80; index++) {
      assert.equal(await local.client.next(), `capped: ${index}`);
    }
    await until('the refusals to settle', () => outcomes.filter((outcome) => outcome !== 'pending').length, (count) => count === 30);
    assert.deepEqual(outcomes.slice(0, 50), Array(50).fill('pending'));
    assert.deepEqual(new Set(outcomes.slice(50)), new Set(['Redis is unavailable (50 commands are waiting for Redis already), so this channel push reached this instance only']));
    redis.freeze(false);

    await Promise.all(pushes);
    assert.deepEqual(outcomes.slice(0, 50), Array(50).fill('fulfilled'));
    for (let index = 0; index < 50; index++) {
      assert.equal(await remote.client.next(), `capped: ${index}`, 'the other instance gets the pushes Redis took, in order');
    }
    await pushVia(capped, { op: 'toChannel', channel: 'rooms/capped', command: 'capped', data: 'after' });
    assert.equal(await remote.client.next(), 'capped: after', 'and nothing it refused');
  } finally {
    redis.freeze(false);
    await capped.close();
  }
});
