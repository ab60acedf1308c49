import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EasyWsModule, PushService, RedisBroker } from 'nestjs-easy-ws';
import type { EasyWsClient } from 'nestjs-easy-ws/client';
import { EasyWsTestClient } from 'nestjs-easy-ws/testing';
import { startApp, type RunningApp } from '../support/app.js';
import { clientThrough, cutOff, pushRange, Rooms } from '../support/history-fixture.js';
import { nextEvent, range, Received } from '../support/received.js';
import { PrivateRedis } from '../support/redis-server.js';
import { REDIS_URL, removeKeys, uniquePrefix } from '../support/relay.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { until } from '../support/until.js';

const LIMIT = { timeout: 60_000 };
const prefix = uniquePrefix('redis-history');

/** An instance of the history fixture on `url`'s Redis; instances with one prefix are one application. */
function startInstance(url = REDIS_URL, keys = prefix): Promise<RunningApp> {
  return startApp({ imports: [EasyWsModule.forRoot({ broker: new RedisBroker({ url, prefix: keys, commandTimeout: 1000 }) })], providers: [Rooms] });
}

let first: RunningApp;
let second: RunningApp;
const clients: EasyWsClient[] = [];
const proxies: TcpProxy[] = [];

before(async () => {
  [first, second] = await Promise.all([startInstance(), startInstance()]);
});

after(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await Promise.all(proxies.map((proxy) => proxy.close()));
  await Promise.all([first?.close(), second?.close()]);
  await removeKeys(prefix);
});

async function proxyTo(app: RunningApp): Promise<TcpProxy> {
  const proxy = await TcpProxy.start(app.port);
  proxies.push(proxy);
  return proxy;
}

test('a client that reconnects to another instance recovers what it missed there: 150 in order, once each', LIMIT, async () => {
  const proxy = await proxyTo(first);
  const client = clientThrough(proxy);
  clients.push(client);
  const said = new Received(client, 'said');
  await client.listen('rooms/moved');
  await pushRange(second.app.get(PushService), 'rooms/moved', 1, 50);
  await pushRange(first.app.get(PushService), 'rooms/moved', 51, 100);
  await said.count(100);
  await cutOff(client, proxy);
  await pushRange(second.app.get(PushService), 'rooms/moved', 101, 150);
  proxy.retarget(second.port);
  const recovery = nextEvent(client, 'recovery');
  proxy.refuse(false);
  assert.deepEqual(await recovery, { channel: 'rooms/moved', recovered: true, missed: 50 });
  assert.deepEqual(await said.count(150), range(1, 150));
  await pushRange(first.app.get(PushService), 'rooms/moved', 151, 152);
  assert.deepEqual(await said.count(152), range(1, 152), 'and the live stream goes on, from any instance');
});

test('pushes from two instances at once reach every listener in one order, the order of the offsets', LIMIT, async () => {
  const here = await EasyWsTestClient.connect(first.app);
  const there = await EasyWsTestClient.connect(second.app);
  await Promise.all([here.track('rooms/race'), there.track('rooms/race')]);
  await Promise.all([pushRange(first.app.get(PushService), 'rooms/race', 1, 200), pushRange(second.app.get(PushService), 'rooms/race', 1001, 1200)]);
  const seen = async (client: EasyWsTestClient): Promise<Array<[number, string]>> => {
    const frames: Array<[number, string]> = [];
    for (let n = 0; n < 400; n++) {
      const { offset } = await client.expectEvent('position');
      frames.push([offset, (await client.expectFrame()).data]);
    }
    return frames;
  };
  const [orderHere, orderThere] = await Promise.all([seen(here), seen(there)]);
  assert.deepEqual(orderHere, orderThere, 'both listeners saw the same frames in the same order');
  assert.deepEqual(
    orderHere.map(([offset]) => offset),
    range(1, 400),
    'with every offset once, in order',
  );
  await Promise.all([here.close(), there.close()]);
});

test('a Redis restarted empty gives the channel a new epoch, and the client is told it did not recover', LIMIT, async () => {
  const redis = await PrivateRedis.start();
  const running = await startInstance(redis.url, uniquePrefix('restart'));
  const proxy = await proxyTo(running);
  const client = clientThrough(proxy);
  clients.push(client);
  const push = running.app.get(PushService);
  try {
    const said = new Received(client, 'said');
    await client.listen('rooms/lost');
    await pushRange(push, 'rooms/lost', 1, 10);
    await said.count(10);
    const before = client.position('rooms/lost');
    await cutOff(client, proxy);
    await redis.kill();
    await redis.restart();
    await until(
      'the broker to reach the restarted Redis',
      () => pushRange(push, 'rooms/lost', 1001, 1001).then(() => true, () => false),
      (reached) => reached,
    );
    const page = await push.history('rooms/lost');
    assert.notEqual(page.position.epoch, before?.epoch, 'the history lost with Redis has another epoch now');
    assert.deepEqual(
      page.messages.map(({ message }) => message.text),
      ['1001'],
      'and holds only what was pushed since',
    );
    const recovery = nextEvent(client, 'recovery');
    proxy.refuse(false);
    assert.deepEqual(await recovery, { channel: 'rooms/lost', recovered: false });
    assert.deepEqual(client.position('rooms/lost'), page.position, 'the client goes on from where the new history stands');
    await pushRange(push, 'rooms/lost', 1002, 1002);
    assert.deepEqual((await said.count(11)).slice(10), [1002]);
  } finally {
    await running.close();
    await redis.kill();
  }
});
