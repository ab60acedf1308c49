import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Broker, EasyWsModule, LEGACY_SUBPROTOCOL, LocalBroker, PushService, RedisBroker, SessionRegistry } from 'nestjs-easy-ws';
import type { EasyWsClient } from 'nestjs-easy-ws/client';
import { EasyWsTestClient } from 'nestjs-easy-ws/testing';
import { startApp, type RunningApp } from '../support/app.js';
import { TestClient } from '../support/client.js';
import { clientThrough, cutOff, pushRange, Rooms, TTL } from '../support/history-fixture.js';
import { nextEvent, range, Received } from '../support/received.js';
import { REDIS_URL, removeKeys, uniquePrefix } from '../support/relay.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { until } from '../support/until.js';

const LIMIT = { timeout: 60_000 };
const redisPrefix = uniquePrefix('history');

/** The same guarantees, whichever broker keeps the history. */
const BROKERS: ReadonlyArray<[string, () => Broker]> = [
  ['the in-process broker', () => new LocalBroker()],
  ['Redis', () => new RedisBroker({ url: REDIS_URL, prefix: redisPrefix })],
];

after(() => removeKeys(redisPrefix));

for (const [brokerName, makeBroker] of BROKERS) {
  describe(`history and recovery with ${brokerName}`, () => {
    let running: RunningApp;
    let proxy: TcpProxy;
    let push: PushService;
    const clients: EasyWsClient[] = [];

    function connect(): EasyWsClient {
      const client = clientThrough(proxy);
      clients.push(client);
      return client;
    }

    before(async () => {
      running = await startApp({ imports: [EasyWsModule.forRoot({ maxBufferedBytes: 64 * 1024, broker: makeBroker() })], providers: [Rooms] });
      push = running.app.get(PushService);
      proxy = await TcpProxy.start(running.port);
    });
    after(async () => {
      await Promise.all(clients.map((client) => client.close()));
      await proxy.close();
      await running.close();
    });

    test('100 frames, a cut, 50 pushed while away: the client gets exactly the 150, in order, once each', LIMIT, async () => {
      const client = connect();
      const said = new Received(client, 'said');
      await client.listen('rooms/a');
      await pushRange(push, 'rooms/a', 1, 100);
      await said.count(100);
      assert.deepEqual(client.position('rooms/a')?.offset, 100);
      await cutOff(client, proxy);
      await pushRange(push, 'rooms/a', 101, 150);
      const recovery = nextEvent(client, 'recovery');
      proxy.refuse(false);
      assert.deepEqual(await recovery, { channel: 'rooms/a', recovered: true, missed: 50 });
      assert.deepEqual(await said.count(150), range(1, 150));
      assert.equal(client.position('rooms/a')?.offset, 150);
    });

    test('a gap longer than the history keeps: recovered is false, and the stream goes on from now', LIMIT, async () => {
      const client = connect();
      const said = new Received(client, 'said');
      await client.listen('rooms/b');
      await pushRange(push, 'rooms/b', 1, 10);
      await said.count(10);
      await cutOff(client, proxy);
      await pushRange(push, 'rooms/b', 11, 160);
      const recovery = nextEvent(client, 'recovery');
      proxy.refuse(false);
      assert.deepEqual(await recovery, { channel: 'rooms/b', recovered: false, missed: 150 });
      assert.equal(client.position('rooms/b')?.offset, 160);
      await pushRange(push, 'rooms/b', 161, 162);
      assert.deepEqual(await said.count(12), [...range(1, 10), 161, 162], 'nothing of the lost gap, then the live stream');
    });

    test('frames pushed while the client recovers are neither lost nor doubled', LIMIT, async () => {
      const client = connect();
      const said = new Received(client, 'said');
      await client.listen('live/1');
      const pushing = pushRange(push, 'live/1', 1, 3000);
      await said.count(500);
      proxy.cut(); // the client reconnects at once and recovers while the pushes go on
      await pushing;
      assert.deepEqual(await said.count(3000), range(1, 3000));
    });

    test('a listen from a stored position (a page reload) gets what was pushed since', LIMIT, async () => {
      const first = connect();
      const said = new Received(first, 'said');
      await first.listen('rooms/c');
      await pushRange(push, 'rooms/c', 1, 10);
      await said.count(10);
      const stored = first.position('rooms/c');
      await first.close();
      await pushRange(push, 'rooms/c', 11, 15);
      const second = connect();
      const again = new Received(second, 'said');
      const recovery = nextEvent(second, 'recovery');
      await second.listen('rooms/c', { since: stored });
      assert.deepEqual(await recovery, { channel: 'rooms/c', recovered: true, missed: 5 });
      assert.deepEqual(await again.count(5), range(11, 15));
    });

    test('a snapshot from the history, and the stream from its position: no gap, nothing twice', LIMIT, async () => {
      await pushRange(push, 'pages/r', 1, 20);
      const client = connect();
      const recent = new Promise<number[]>((resolve) => client.onJson<number[]>('recent', resolve));
      const said = new Received(client, 'said');
      const pushing = pushRange(push, 'pages/r', 21, 400);
      await client.listen('pages/r');
      await pushing;
      const snapshot = await recent;
      assert.equal(snapshot.length, 5);
      const stream = await said.count(400 - snapshot[4]);
      assert.deepEqual([...snapshot, ...stream], range(snapshot[0], 400));
    });

    test('frames the drop policy dropped for a slow reader are recovered, in order', LIMIT, async () => {
      const client = connect();
      const ticks = new Received(client, 'said');
      await client.listen('ticks/x');
      const [session] = running.app.get(SessionRegistry).listeners('ticks/x');
      proxy.stall();
      await pushRange(push, 'ticks/x', 1, 400, 'x'.repeat(64 * 1024));
      assert.ok(session.droppedFrames > 0, 'the stalled reader lost frames to the drop policy');
      proxy.resume();
      assert.deepEqual(await ticks.count(400), range(1, 400));
    });

    test('a client of the original protocol on a channel with history gets exactly the frames it always did', LIMIT, async () => {
      const legacy = await TestClient.connect(running.url(), { protocols: [LEGACY_SUBPROTOCOL] });
      legacy.send('listen: rooms/d');
      const tracked = connect();
      await tracked.listen('rooms/d');
      await until('the legacy client to listen', () => running.app.get(SessionRegistry).listeners('rooms/d').size, (size) => size === 2);
      await pushRange(push, 'rooms/d', 1, 3);
      assert.deepEqual([await legacy.next(), await legacy.next(), await legacy.next()], ['said: 1', 'said: 2', 'said: 3']);
      assert.equal(await legacy.request('ping: '), 'pong: ', 'and nothing else came before the answer');
      await legacy.close();
    });

    test('on the wire: every replayed frame right after its position, then the answer', LIMIT, async () => {
      await pushRange(push, 'rooms/wire', 1, 3);
      const first = await EasyWsTestClient.connect(running.app);
      const answer = await first.track('rooms/wire');
      assert.ok(answer.ok && answer.position?.offset === 3, 'the answer says where the stream goes on from');
      const { epoch } = answer.ok ? (answer.position ?? { epoch: '' }) : { epoch: '' };
      await pushRange(push, 'rooms/wire', 4, 5);
      for (const offset of [4, 5]) {
        assert.deepEqual(await first.expectEvent('position'), { event: 'position', channel: 'rooms/wire', epoch, offset });
        assert.equal((await first.expectFrame()).text, `said: ${offset}`, 'the frame comes right after its position');
      }
      const again = await EasyWsTestClient.connect(running.app);
      const recovered = await again.track('rooms/wire', { since: { epoch, offset: 3 } });
      assert.deepEqual(recovered, { op: 'listen', channel: 'rooms/wire', ok: true, position: { epoch, offset: 5 }, recovered: true, missed: 2 });
      assert.deepEqual(
        again.unread.map(({ text }) => text),
        [4, 5].flatMap((offset) => [`websocket: {"event":"position","channel":"rooms/wire","epoch":"${epoch}","offset":${offset}}`, `said: ${offset}`]),
        'the missed frames came before the answer',
      );
      await Promise.all([first.close(), again.close()]);
    });

    test('PushService.history pages what a channel keeps, and refuses a channel without history', async () => {
      await pushRange(push, 'rooms/e', 1, 30);
      const page = await push.history('rooms/e', { since: 20, limit: 4 });
      assert.equal(page.position.offset, 30);
      assert.deepEqual(
        page.messages.map(({ offset, message }) => [offset, message.text]),
        [27, 28, 29, 30].map((n) => [n, String(n)]),
      );
      assert.throws(() => push.history('plain'), { code: 'EASY_WS_INVALID_ARGUMENT', message: /keeps no history/ });
    });
  });
}

test('frames that expired are not recovered: the clock of the history is the broker\'s', LIMIT, async () => {
  let now = Date.now();
  const running = await startApp({ imports: [EasyWsModule.forRoot({ broker: new LocalBroker({ now: () => now }) })], providers: [Rooms] });
  const proxy = await TcpProxy.start(running.port);
  const push = running.app.get(PushService);
  const client = clientThrough(proxy);
  try {
    const said = new Received(client, 'said');
    await client.listen('rooms/t');
    await pushRange(push, 'rooms/t', 1, 10);
    await said.count(10);
    await cutOff(client, proxy);
    await pushRange(push, 'rooms/t', 11, 12);
    now += TTL + 1;
    await pushRange(push, 'rooms/t', 13, 13);
    const recovery = nextEvent(client, 'recovery');
    proxy.refuse(false);
    assert.deepEqual(await recovery, { channel: 'rooms/t', recovered: false, missed: 3 });
  } finally {
    await client.close();
    await proxy.close();
    await running.close();
  }
});
