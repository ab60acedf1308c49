import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from 'ioredis';
import type { RunningApp } from '../support/app.js';
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
    assert.equal(await shardSubscribers(`c:${channel}`), 2, `${channel} is subscribed on its shard once per instance`);
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
    await until(`${channel} to be unsubscribed on its shard`, () => shardSubscribers(`c:${channel}`), (count) => count === 0);
  }
  assert.equal(await shardSubscribers('broadcast'), 2);
});

