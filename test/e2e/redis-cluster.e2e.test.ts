import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Injectable } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { EasyWsModule, ListenChannel, PushService, RedisBroker } from 'nestjs-easy-ws';
import { EasyWsTestClient } from 'nestjs-easy-ws/testing';
import { startApp, type RunningApp } from '../support/app.js';
import { pushRange, Rooms } from '../support/history-fixture.js';
import { range } from '../support/received.js';
import { PrivateRedisCluster } from '../support/redis-server.js';
import { join, listen, pushVia, startRelay, uniquePrefix } from '../support/relay.js';
import { until } from '../support/until.js';

const prefix = uniquePrefix('cluster');
/** Enough channels that they land on every shard of the cluster. */
const CHANNELS = Array.from({ length: 6 }, (_, index) => `rooms/${index}`);

let cluster: PrivateRedisCluster;
let clients: Cluster[];
let apps: RunningApp[];

before(async () => {
  cluster = await PrivateRedisCluster.start(3);
  clients = [new Cluster(cluster.startupNodes), new Cluster(cluster.startupNodes)];
  apps = await Promise.all(clients.map((client) => startRelay({ client, prefix })));
});

after(async () => {
  await Promise.all((apps ?? []).map((app) => app.close()));
  await Promise.all((clients ?? []).map((client) => client.quit()));
  await cluster?.stop();
});

/** How many instances subscribe the sharded channel `name`, summed over the shards. */
function shardSubscribers(name: string): Promise<number> {
  return cluster.sum('PUBSUB', 'SHARDNUMSUB', `${prefix}${name}`);
}

test('on a Redis Cluster, pushes cross instances through sharded pub/sub, and subscriptions end with the last listener', { timeout: 30_000 }, async () => {
  const [here, there] = await Promise.all([join(apps[0]), join(apps[1])]);
  for (const channel of CHANNELS) {
    await listen(here.client, channel);
    await listen(there.client, channel);
  }
  for (const channel of CHANNELS) {
    assert.equal(await shardSubscribers(`{#${channel}}:c`), 2, `${channel} is subscribed on its shard once per instance`);
    await pushVia(apps[1], { op: 'toChannel', channel, command: 'said', data: channel });
    assert.equal(await here.client.next(), `said: ${channel}`);
    assert.equal(await there.client.next(), `said: ${channel}`);
  }
  await pushVia(apps[1], { op: 'toSession', sessionId: here.id, command: 'direct', data: 'hi' });
  assert.equal(await here.client.next(), 'direct: hi');
  await pushVia(apps[0], { op: 'broadcast', command: 'all', data: 'everyone' });
  assert.equal(await here.client.next(), 'all: everyone');
  assert.equal(await there.client.next(), 'all: everyone');

  await Promise.all([here.client.close(), there.client.close()]);
  for (const channel of CHANNELS) {
    await until(`${channel} to be unsubscribed on its shard`, () => shardSubscribers(`{#${channel}}:c`), (count) => count === 0);
  }
  assert.equal(await shardSubscribers('broadcast'), 2);
});


@Injectable()
class Lobby {
  @ListenChannel('lobby/:id', { presence: true })
  lobby() {}
}

test('on a Redis Cluster, history and presence keep each channel\'s keys in one slot, on every shard', { timeout: 60_000 }, async () => {
  const keys = `${prefix}features:`;
  // With a keyPrefix, which ioredis puts on keys and sharded channels alike, and the script must too.
  const prefixed = [1, 2].map(() => new Cluster(cluster.startupNodes, { keyPrefix: 'app:' }));
  const instances = await Promise.all(
    prefixed.map((client) => startApp({ imports: [EasyWsModule.forRoot({ broker: new RedisBroker({ client, prefix: keys }) })], providers: [Rooms, Lobby] })),
  );
  try {
    for (const channel of CHANNELS) {
      const here = await EasyWsTestClient.connect(instances[0].app);
      const there = await EasyWsTestClient.connect(instances[1].app);
      await here.track(channel);
      await pushRange(instances[1].app.get(PushService), channel, 1, 3);
      const history = await instances[0].app.get(PushService).history(channel);
      assert.deepEqual(
        history.messages.map(({ offset, message }) => [offset, message.text]),
        range(1, 3).map((n) => [n, String(n)]),
        `${channel} is kept on its shard`,
      );
      for (const n of range(1, 3)) {
        assert.equal((await here.expectEvent('position')).offset, n);
        assert.equal((await here.expectFrame()).text, `said: ${n}`);
      }
      const recovered = await there.track(channel, { since: { epoch: history.position.epoch, offset: 1 } });
      assert.ok(recovered.ok && recovered.recovered === true && recovered.missed === 2, `${channel} recovered from another instance`);
      const lobby = channel.replace('rooms/', 'lobby/');
      await here.track(lobby);
      await there.track(lobby);
      assert.equal(await instances[1].app.get(PushService).presenceCount(lobby), 2, `${lobby}'s members are kept on its shard`);
      await Promise.all([here.close(), there.close()]);
    }
  } finally {
    await Promise.all(instances.map((instance) => instance.close()));
    await Promise.all(prefixed.map((client) => client.quit()));
  }
});
