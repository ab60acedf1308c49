import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { RedisBroker } from 'nestjs-easy-ws';
import type { RunningApp } from '../support/app.js';
import type { TestClient } from '../support/client.js';
import { join, listen, pushVia, REDIS_URL, startRelay, uniquePrefix } from '../support/relay.js';
import { until } from '../support/until.js';

const prefix = uniquePrefix('broker');
const TIMEOUT = { timeout: 20_000 };
/** Pushes per client in the exactly-once tests. */
const N = 25;

let apps: RunningApp[];
let redis: Redis;
let passedClient: Redis;

before(async () => {
  redis = new Redis(REDIS_URL);
  passedClient = new Redis(REDIS_URL);
  // Three instances on three ports, configured each of the ways a user can.
  apps = await Promise.all([
    startRelay({ url: REDIS_URL, prefix }),
    startRelay({ client: passedClient, prefix }),
    startRelay({ url: REDIS_URL, prefix }, 'forRootAsync'),
  ]);
});

after(async () => {
  await Promise.all(apps.map((app) => app.close()));
  passedClient.disconnect();
  redis.disconnect();
});

/** How many instances have subscribed the Redis channel of `name` (`c:` app channel, `s:` session). */
async function subscribers(name: string): Promise<number> {
  const [, count] = (await redis.call('PUBSUB', 'NUMSUB', `${prefix}${name}`)) as [string, number];
  return count;
}

/**
 * The frames a client gets until it has seen every marker. A marker pushed through
 * Redis reaches an instance after everything published before it, so once a client
 * has seen a marker from another instance, any duplicate would already be here.
 */
async function framesUntil(client: TestClient, markers: string[]): Promise<string[]> {
  const waiting = new Set(markers);
  const frames: string[] = [];
  while (waiting.size > 0) {
    const frame = await client.next();
    if (!waiting.delete(frame)) {
      frames.push(frame);
    }
  }
  return frames;
}

/** Checks that a client got nothing more: the answer to an echo is its next frame. */
async function assertNothingMore(client: TestClient): Promise<void> {
  assert.equal(await client.request('echo: anything else?'), 'echo: anything else?');
}

async function closeAll(clients: TestClient[]): Promise<void> {
  await Promise.all(clients.map((client) => client.close()));
}

test('RedisBroker rejects options it cannot use', () => {
  assert.throws(() => new RedisBroker({}), /give either "url" or "client"/);
  assert.throws(() => new RedisBroker({ url: REDIS_URL, client: redis }), /give either "url" or "client"/);
  assert.throws(() => new RedisBroker({ url: 'localhost:6379' }), /redis:\/\/ or rediss:\/\/ URL/);
  assert.throws(() => new RedisBroker({ client: {} as Redis }), /ioredis Redis or Cluster/);
});

test('a channel push reaches every listener on every instance exactly once, in order, right after the listen is acknowledged', TIMEOUT, async () => {
  const listeners = await Promise.all([0, 0, 1, 1, 2, 2].map((index) => join(apps[index])));
  const bystander = await join(apps[1]);
  // No waiting for Redis here: an acknowledged listen is already subscribed everywhere it needs to be.
  await Promise.all(listeners.map(({ client }) => listen(client, 'rooms/lobby')));
  assert.equal(await subscribers('c:rooms/lobby'), 3, 'one Redis subscription per instance, not per listener');

  const expected: string[] = [];
  for (let index = 0; index < N; index++) {
    const outcome = await pushVia(apps[1], { op: 'toChannel', channel: 'rooms/lobby', command: 'said', data: `m${index}` });
    assert.deepEqual(outcome, { reached: 'every instance' });
    expected.push(`said: m${index}`);
  }
  await pushVia(apps[0], { op: 'toChannel', channel: 'rooms/lobby', command: 'end', data: 'from 0' });
  await pushVia(apps[2], { op: 'toChannel', channel: 'rooms/lobby', command: 'end', data: 'from 2' });

  for (const { client } of listeners) {
    assert.deepEqual(await framesUntil(client, ['end: from 0', 'end: from 2']), expected);
    await assertNothingMore(client);
  }
  await assertNothingMore(bystander.client);
  await closeAll([...listeners, bystander].map(({ client }) => client));
});

test('a binary frame stays binary across instances', TIMEOUT, async () => {
  const { client } = await join(apps[2]);
  await listen(client, 'news');
  await pushVia(apps[0], { op: 'toChannel', channel: 'news', command: 'blob', data: 'bytes', binary: true });
  const { text, binary } = await client.nextFrame();
  assert.deepEqual({ text, binary }, { text: 'blob: bytes', binary: true });
  await client.close();
});

test('a message on these channels that no RedisBroker published is ignored', TIMEOUT, async () => {
  const { client } = await join(apps[0]);
  await listen(client, 'news');
  await redis.publish(`${prefix}c:news`, 'not a broker message');
  await pushVia(apps[1], { op: 'toChannel', channel: 'news', command: 'news', data: 'real' });
  assert.equal(await client.next(), 'news: real');
  await client.close();
});

test('a session push reaches the session on whichever instance holds it, exactly once', TIMEOUT, async () => {
  const target = await join(apps[0]);
  const expected: string[] = [];
  for (const [from, origin] of [
    [apps[0], 'same instance'],
    [apps[2], 'other instance'],
  ] as const) {
    for (let index = 0; index < N; index++) {
      await pushVia(from, { op: 'toSession', sessionId: target.id, command: 'direct', data: `${origin} ${index}` });
      expected.push(`direct: ${origin} ${index}`);
    }
  }
  await pushVia(apps[1], { op: 'toSession', sessionId: target.id, command: 'end', data: 'from 1' });
  await pushVia(apps[2], { op: 'toSession', sessionId: target.id, command: 'end', data: 'from 2' });
  assert.deepEqual(await framesUntil(target.client, ['end: from 1', 'end: from 2']), expected);
  await assertNothingMore(target.client);
  await target.client.close();
});

test('a broadcast reaches every session on every instance exactly once', TIMEOUT, async () => {
  const sessions = await Promise.all([0, 1, 2, 0, 1, 2].map((index) => join(apps[index])));
  const expected: string[] = [];
  for (let index = 0; index < N; index++) {
    await pushVia(apps[index % 3], { op: 'broadcast', command: 'all', data: `b${index}` });
    expected.push(`all: b${index}`);
  }
  await pushVia(apps[0], { op: 'broadcast', command: 'end', data: 'from 0' });
  await pushVia(apps[1], { op: 'broadcast', command: 'end', data: 'from 1' });
  for (const { client } of sessions) {
    const frames = await framesUntil(client, ['end: from 0', 'end: from 1']);
    // Broadcasts from different instances may overtake each other; each arrives once.
    assert.deepEqual(frames.toSorted(), expected.toSorted());
    await assertNothingMore(client);
  }
  await closeAll(sessions.map(({ client }) => client));
});

test('the server subscribes and unsubscribes a session on another instance', TIMEOUT, async () => {
  const session = await join(apps[0]);

  // The subscription is made on instance 0, which then subscribes in Redis.
  assert.deepEqual(await pushVia(apps[2], { op: 'subscribe', sessionId: session.id, channel: 'rooms/solo' }), { reached: 'every instance' });
  await until('instance 0 to subscribe rooms/solo in Redis', () => subscribers('c:rooms/solo'), (count) => count === 1);
  await pushVia(apps[1], { op: 'toChannel', channel: 'rooms/solo', command: 'solo', data: 'one' });
  assert.equal(await session.client.next(), 'solo: one');

  await pushVia(apps[2], { op: 'unsubscribe', sessionId: session.id, channel: 'rooms/solo' });
  await until('instance 0 to unsubscribe rooms/solo in Redis', () => subscribers('c:rooms/solo'), (count) => count === 0);
  await pushVia(apps[1], { op: 'toChannel', channel: 'rooms/solo', command: 'solo', data: 'two' });
  await assertNothingMore(session.client);

  // With another listener there, the Redis channel stays; the session alone leaves it.
  const other = await join(apps[0]);
  await listen(other.client, 'rooms/duo');
  await pushVia(apps[2], { op: 'subscribe', sessionId: session.id, channel: 'rooms/duo' });
  // Published by the same instance after the subscribe, so instance 0 receives it after the subscribe.
  await pushVia(apps[2], { op: 'toChannel', channel: 'rooms/duo', command: 'duo', data: 'both' });
  assert.equal(await session.client.next(), 'duo: both');
  assert.equal(await other.client.next(), 'duo: both');
  await pushVia(apps[2], { op: 'unsubscribe', sessionId: session.id, channel: 'rooms/duo' });
  await pushVia(apps[2], { op: 'toChannel', channel: 'rooms/duo', command: 'duo', data: 'other only' });
  assert.equal(await other.client.next(), 'duo: other only');
  await assertNothingMore(session.client);
  assert.equal(await subscribers('c:rooms/duo'), 1);

  // Subscribed by its own instance, the push resolves once Redis has confirmed, so another instance can push at once.
  await pushVia(apps[0], { op: 'subscribe', sessionId: session.id, channel: 'rooms/local' });
  await pushVia(apps[1], { op: 'toChannel', channel: 'rooms/local', command: 'local', data: 'at once' });
  assert.equal(await session.client.next(), 'local: at once');
  await closeAll([session.client, other.client]);
});

test('the server disconnects a session on another instance', TIMEOUT, async () => {
  const session = await join(apps[1]);
  assert.equal(await subscribers(`s:${session.id}`), 1);
  await pushVia(apps[2], { op: 'disconnect', sessionId: session.id, code: 4001, reason: 'moved elsewhere' });
  assert.deepEqual(await session.client.closed, { code: 4001, reason: 'moved elsewhere' });
  await until('the closed session to leave Redis', () => subscribers(`s:${session.id}`), (count) => count === 0);
});

test('Redis subscriptions follow local listeners and end with the last one', TIMEOUT, async () => {
  const first = await join(apps[0]);
  const second = await join(apps[1]);
  await listen(first.client, 'rooms/b');
  await listen(second.client, 'rooms/b');
  assert.equal(await subscribers('c:rooms/b'), 2);

  assert.equal(await first.client.request('unlisten: rooms/b'), 'websocket: {"op":"unlisten","channel":"rooms/b","ok":true}');
  await until('instance 0 to leave rooms/b', () => subscribers('c:rooms/b'), (count) => count === 1);
  await second.client.close();
  await until('instance 1 to leave rooms/b', () => subscribers('c:rooms/b'), (count) => count === 0);
  await first.client.close();

  // With every client gone, only the broadcast channel is left, once per instance.
  const channels = await until(
    'only the broadcast channel to remain',
    () => redis.call('PUBSUB', 'CHANNELS', `${prefix}*`) as Promise<string[]>,
    (names) => names.length === 1,
  );
  assert.deepEqual(channels, [`${prefix}broadcast`]);
  assert.equal(await subscribers('broadcast'), 3);
});

test('sharded pub/sub works on a single Redis 7 too, with a client whose keyPrefix ioredis puts on sharded channels', TIMEOUT, async () => {
  const shardedPrefix = uniquePrefix('sharded');
  const clients = [new Redis(REDIS_URL, { keyPrefix: 'app:' }), new Redis(REDIS_URL, { keyPrefix: 'app:' })];
  const sharded = await Promise.all(clients.map((client) => startRelay({ client, prefix: shardedPrefix, sharded: true })));
  const { client } = await join(sharded[0]);
  await listen(client, 'news');
  const [, count] = (await redis.call('PUBSUB', 'SHARDNUMSUB', `app:${shardedPrefix}{#news}:c`)) as [string, number];
  assert.equal(count, 1);
  await pushVia(sharded[1], { op: 'toChannel', channel: 'news', command: 'news', data: 'sharded' });
  assert.equal(await client.next(), 'news: sharded');
  await client.close();
  await Promise.all(sharded.map((app) => app.close()));
  await Promise.all(clients.map((redisClient) => redisClient.quit()));
});

test('a lazy client passed in is connected, and stays open when its instance closes', TIMEOUT, async () => {
  const client = new Redis(REDIS_URL, { lazyConnect: true });
  const extra = await startRelay({ client, prefix });
  assert.equal(await subscribers('broadcast'), 4);
  const listener = await join(apps[0]);
  await listen(listener.client, 'news');
  assert.deepEqual(await pushVia(extra, { op: 'toChannel', channel: 'news', command: 'news', data: 'from the extra instance' }), { reached: 'every instance' });
  assert.equal(await listener.client.next(), 'news: from the extra instance');

  await extra.close();
  await until('the closed instance to leave Redis', () => subscribers('broadcast'), (count) => count === 3);
  assert.equal(await client.ping(), 'PONG');
  client.disconnect();
  await listener.client.close();
});
