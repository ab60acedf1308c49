import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { type PresenceMember, PushService, RedisBroker } from 'nestjs-easy-ws';
import { EasyWsClient } from 'nestjs-easy-ws/client';
import { EasyWsTestClient } from 'nestjs-easy-ws/testing';
import WebSocket from 'ws';
import { nextEvent } from '../support/received.js';
import { REDIS_URL, removeKeys, uniquePrefix } from '../support/relay.js';
import { type ScenarioApp, startScenarioApp } from '../support/scenario-handlers.js';
import { ServerProcess } from '../support/server-process.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { until } from '../support/until.js';

const LIMIT = { timeout: 60_000 };
/** Short, so that the test of an instance that died is quick; the default is 30 s. */
const PRESENCE_TIMEOUT = 1500;
const settings = { url: REDIS_URL, prefix: uniquePrefix('presence'), presenceTimeout: PRESENCE_TIMEOUT };

let first: ScenarioApp;
let second: ScenarioApp;
let third: ServerProcess;
const testClients: EasyWsTestClient[] = [];

before(async () => {
  [first, second, third] = await Promise.all([
    startScenarioApp({ broker: new RedisBroker(settings) }),
    startScenarioApp({ broker: new RedisBroker(settings) }),
    ServerProcess.start({}, settings),
  ]);
});

after(async () => {
  await Promise.all(testClients.map((client) => client.close()));
  await Promise.all([first?.close(), second?.close(), third?.kill()]);
  await removeKeys(settings.prefix);
});

/** A member of `lobby` on the instance at `target`, named `name`, that listens for presence events. */
async function member(target: ScenarioApp | ServerProcess, name: string): Promise<{ client: EasyWsTestClient; id: string }> {
  const client = await EasyWsTestClient.connect('app' in target ? target.app : target.url, { headers: { 'x-name': name } });
  testClients.push(client);
  const id = (await client.expectFrame((frame) => frame.command === 'welcome')).data;
  await client.track('lobby');
  return { client, id };
}

function names(members: readonly PresenceMember[]): string[] {
  return members.map(({ info }) => (info as { name: string }).name).sort();
}

/** The next presence event of `client` that says something of the session `id`. */
async function eventAbout(client: EasyWsTestClient, id: string, timeout: number) {
  for (;;) {
    const event = await client.expectEvent('presence', { timeout });
    if ([...event.joins, ...event.leaves].some(({ sessionId }) => sessionId === id)) {
      return event;
    }
  }
}

test('the members on three instances are listed and counted on each, and every listener hears of a leave', LIMIT, async () => {
  const ada = await member(first, 'ada');
  const bob = await member(second, 'bob');
  const cy = await member(third, 'cy');
  const answer = (await eventAbout(ada.client, cy.id, 5000)).joins;
  assert.deepEqual(names(answer), ['cy'], 'ada heard of the join on the third instance');
  for (const push of [first.app.get(PushService), second.app.get(PushService)]) {
    assert.deepEqual(names(await push.presence('lobby')), ['ada', 'bob', 'cy']);
    assert.equal(await push.presenceCount('lobby'), 3);
  }
  assert.deepEqual(names(await cy.client.presence('lobby')), ['ada', 'bob', 'cy'], 'a client asks for the members');
  await bob.client.unlisten('lobby');
  const left = await eventAbout(ada.client, bob.id, 5000);
  assert.deepEqual(left.leaves, [{ sessionId: bob.id, info: { name: 'bob' } }]);
  assert.equal(await first.app.get(PushService).presenceCount('lobby'), 2);
});

test('an instance killed with SIGKILL leaves presence within presenceTimeout, its leaves announced once', LIMIT, async () => {
  const push = first.app.get(PushService);
  const before = await push.presence('lobby');
  const onThird = before.filter(({ info }) => (info as { name: string }).name === 'cy');
  assert.equal(onThird.length, 1, 'the third instance holds a member');
  const watchers = await Promise.all([member(first, 'dee'), member(second, 'eve')]);
  const killedAt = Date.now();
  await third.kill();
  for (const { client } of watchers) {
    const event = await eventAbout(client, onThird[0].sessionId, PRESENCE_TIMEOUT * 4);
    assert.deepEqual(event.leaves, onThird);
  }
  const took = Date.now() - killedAt;
  // Dead once its last beat is presenceTimeout old; found at the next beat of a living instance.
  assert.ok(took <= PRESENCE_TIMEOUT * 2 + 1000, `the leave was announced ${took} ms after the kill`);
  assert.deepEqual(names(await push.presence('lobby')), ['ada', 'dee', 'eve']);
  for (const { client } of watchers) {
    await client.expectNoFrame(PRESENCE_TIMEOUT, (frame) => frame.text.includes(onThird[0].sessionId));
  }
});

test('a client that reconnects to another instance is one member, and its view equals the server\'s', LIMIT, async () => {
  const proxy = await TcpProxy.start(first.port);
  const client = new EasyWsClient(proxy.url(), { WebSocket, reconnect: { minDelay: 20, maxDelay: 60 } });
  const push = second.app.get(PushService);
  try {
    await client.listen('lobby');
    const countBefore = await push.presenceCount('lobby');
    const seenBefore = client.presence('lobby')?.map(({ sessionId }) => sessionId) ?? [];
    proxy.retarget(second.port);
    const rejoined = nextEvent(client, 'open');
    proxy.cut();
    await rejoined;
    const ids = (members: readonly PresenceMember[] | undefined) => JSON.stringify(members?.map(({ sessionId }) => sessionId).sort());
    const [server, view] = await until(
      'the client\'s view and the server\'s to settle',
      async () => [await push.presence('lobby'), client.presence('lobby')] as const,
      ([members, seen]) => members.length === countBefore && ids(members) === ids(seen),
    );
    const gone = seenBefore.filter((id) => !view?.some(({ sessionId }) => sessionId === id));
    assert.equal(gone.length, 1, 'its old session left as its new one joined, and nobody else');
    assert.equal(server.length, seenBefore.length);
  } finally {
    await client.close();
    await proxy.close();
  }
});
