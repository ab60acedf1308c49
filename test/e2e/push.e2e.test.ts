import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Injectable } from '@nestjs/common';
import { ConnectedSocket, MessageBody } from '@nestjs/websockets';
import { Command, EasyWsModule, type EasyWsSession, ListenChannel, Message, PushService, SessionRegistry } from 'nestjs-easy-ws';
import { startApp, type RunningApp } from '../support/app.js';
import { TestClient } from '../support/client.js';
import { SessionTracker } from '../support/session-tracker.js';
import { until } from '../support/until.js';

@Injectable()
class Channels {
  @Command('echo')
  echo(@MessageBody() data: string) {
    return new Message('echo', data);
  }

  @Command('channels')
  channels(@ConnectedSocket() session: EasyWsSession) {
    return new Message('channels', [...session.channels].sort());
  }

  @ListenChannel('news')
  news() {}

  @ListenChannel('rooms/:room')
  room() {}
}

let running: RunningApp;
let push: PushService;
let registry: SessionRegistry;
let tracker: SessionTracker;
before(async () => {
  running = await startApp({ imports: [EasyWsModule.forRoot()], providers: [Channels, SessionTracker] });
  push = running.app.get(PushService);
  registry = running.app.get(SessionRegistry);
  tracker = running.app.get(SessionTracker);
});
after(() => running.close());

/** A connected client and its session id. */
async function connect(protocols: string[] = []): Promise<{ client: TestClient; id: string }> {
  const client = await TestClient.connect(running.url(), { protocols });
  return { client, id: await client.sessionId() };
}

/** Closes the clients and waits until the server has run their close hooks. */
async function leave(...sessions: Array<{ client: TestClient; id: string }>): Promise<void> {
  await Promise.all(sessions.map(async ({ client, id }) => {
    await client.close();
    await tracker.whenClosed(id);
  }));
}

describe('PushService', () => {
  test('toChannel reaches the listener, and only the listener', async () => {
    const listener = await connect();
    const bystander = await connect();
    listener.client.send('listen: news');
    assert.equal(await listener.client.request('echo: subscribed'), 'echo: subscribed');
    await push.toChannel('news', new Message('news', 'for listeners'));
    assert.equal(await listener.client.next(), 'news: for listeners');
    assert.equal(await bystander.client.request('echo: nothing came'), 'echo: nothing came');
    await leave(listener, bystander);
  });

  test('toChannel for a channel no one listens to does nothing', async () => {
    const one = await connect();
    await push.toChannel('rooms/empty', new Message('room', 'to no one'));
    assert.equal(await one.client.request('echo: nothing'), 'echo: nothing');
    await leave(one);
  });

  test('toSession reaches that session only; an unknown id is no error', async () => {
    const target = await connect();
    const other = await connect();
    await push.toSession(target.id, new Message('direct', 'just you'));
    assert.equal(await target.client.next(), 'direct: just you');
    assert.equal(await other.client.request('echo: not me'), 'echo: not me');
    await push.toSession('00000000-0000-4000-8000-000000000000', new Message('direct', 'to no one'));
    await leave(target, other);
  });

  test('broadcast reaches every session, listening or not', async () => {
    const listener = await connect();
    const idle = await connect(['easy-ws.v1']);
    listener.client.send('listen: news');
    await push.broadcast(new Message('all', 'everyone'));
    assert.equal(await listener.client.next(), 'all: everyone');
    assert.equal(await idle.client.next(), 'all: everyone');
    await leave(listener, idle);
  });

  test('bytes are pushed as a binary frame', async () => {
    const one = await connect();
    await push.toSession(one.id, new Message('bytes', Uint8Array.from([1, 2, 255])));
    const frame = await one.client.nextFrame();
    assert.equal(frame.binary, true);
    assert.deepEqual(frame.bytes, Buffer.concat([Buffer.from('bytes: '), Buffer.from([1, 2, 255])]));
    await leave(one);
  });

  for (const protocols of [[], ['easy-ws.v1']]) {
    test(`subscribe and unsubscribe act for the server and say nothing to the client (${protocols[0] ?? 'original mode'})`, async () => {
      const one = await connect(protocols);
      await push.subscribe(one.id, 'rooms/vip');
      assert.equal(await one.client.request('channels: '), 'channels: ["rooms/vip"]');
      await push.toChannel('rooms/vip', new Message('vip', 'welcome in'));
      assert.equal(await one.client.next(), 'vip: welcome in');

      await push.unsubscribe(one.id, 'rooms/vip');
      assert.equal(await one.client.request('channels: '), 'channels: []');
      await push.toChannel('rooms/vip', new Message('vip', 'not any more'));
      assert.equal(await one.client.request('echo: nothing'), 'echo: nothing');
      await leave(one);
    });
  }

  test('subscribe makes the client\'s own listen "already listening"; unsubscribe makes its unlisten "not listening"', async () => {
    const one = await connect();
    await push.subscribe(one.id, 'news');
    assert.equal(await one.client.request('listen: news'), 'websocket: already listening');
    await push.unsubscribe(one.id, 'news');
    assert.equal(await one.client.request('unlisten: news'), 'websocket: not listening');
    await leave(one);
  });

  test('disconnect closes with the given code and reason, and the close hook runs', async () => {
    const one = await connect();
    const other = await connect();
    await push.disconnect(one.id, 4001, 'kicked');
    assert.deepEqual(await one.client.closed, { code: 4001, reason: 'kicked' });
    const closed = await tracker.whenClosed(one.id);
    assert.equal(closed.id, one.id);
    assert.equal(registry.get(one.id), undefined);
    assert.equal(await other.client.request('echo: still open'), 'echo: still open');
    await leave(other);
  });

  test('disconnect without a code closes normally (1000)', async () => {
    const one = await connect();
    await push.disconnect(one.id);
    assert.equal((await one.client.closed).code, 1000);
    await tracker.whenClosed(one.id);
  });

  test('bad arguments are refused with a TypeError that says what is wrong', async () => {
    const one = await connect();
    const message = new Message('news', 'x');
    const refusals: Array<[string, () => Promise<void>, RegExp]> = [
      ['an empty channel', () => push.toChannel('', message), /channel/],
      ['a channel over 255 bytes', () => push.toChannel('c'.repeat(256), message), /255 bytes/],
      ['a channel that is not a string', () => push.toChannel(42 as unknown as string, message), /channel/],
      ['something that is not a Message', () => push.toChannel('news', 'news: x' as unknown as Message), /Message/],
      ['a plain object as the message', () => push.broadcast({ frame: Buffer.from('x') } as unknown as Message), /Message/],
      ['a protocol notice', () => push.broadcast(Message.fromFrame(Buffer.from('websocket: not authorized'), false)), /belong to the protocol/],
      ['an empty session id', () => push.toSession('', message), /session id/],
      ['a session id that is not a string', () => push.subscribe(undefined as unknown as string, 'news'), /session id/],
      ['an empty channel to subscribe to', () => push.subscribe(one.id, ''), /channel/],
      ['a close code outside the protocol', () => push.disconnect(one.id, 999), /close code/],
      ['a reserved close code', () => push.disconnect(one.id, 1005), /close code/],
      ['a close code that is not a whole number', () => push.disconnect(one.id, 4000.5), /close code/],
      ['a close reason over 123 bytes', () => push.disconnect(one.id, 4000, 'r'.repeat(124)), /123 bytes/],
    ];
    for (const [situation, call, reason] of refusals) {
      await assert.rejects(async () => call(), (error: unknown) => error instanceof TypeError && reason.test(error.message), situation);
    }
    assert.equal(await one.client.request('echo: untouched'), 'echo: untouched');
    await leave(one);
  });
});

describe('close hook and cleanup', () => {
  test('the close hook gets the session after it left every channel', async () => {
    const one = await connect();
    one.client.send('listen: news');
    one.client.send('listen: rooms/1');
    await push.subscribe(one.id, 'rooms/2');
    assert.equal(await one.client.request('channels: '), 'channels: ["news","rooms/1","rooms/2"]');
    await one.client.close();
    const session = await tracker.whenClosed(one.id);
    assert.equal(session.isOpen, false);
    assert.deepEqual([...session.channels], []);
    assert.equal(registry.get(one.id), undefined);
    assert.equal(registry.listeners('news').size, 0);
  });

  test('after every client has left, no session and no channel entry remains', async () => {
    const sessions = await Promise.all(Array.from({ length: 12 }, () => connect()));
    await Promise.all(
      sessions.map(async ({ client, id }, index) => {
        client.send('listen: news');
        client.send(`listen: rooms/${index % 3}`);
        await push.subscribe(id, `rooms/private-${index}`);
        assert.equal(await client.request('echo: ready'), 'echo: ready');
      }),
    );
    assert.equal(registry.sessionCount, 12);
    assert.equal(registry.channelCount, 1 + 3 + 12);
    assert.equal(registry.listenerCount, 12 * 3);
    assert.deepEqual([...(registry.get(sessions[4].id)?.channels ?? [])].sort(), ['news', 'rooms/1', 'rooms/private-4']);
    const [busiest, ...next] = registry.busiestChannels(3);
    assert.deepEqual(busiest, { channel: 'news', listeners: 12 });
    assert.deepEqual(
      next.map(({ channel, listeners }) => [/^rooms\/[012]$/.test(channel), listeners]),
      [
        [true, 4],
        [true, 4],
      ],
      'then two of the rooms, four listeners each',
    );
    // Half close themselves, half are disconnected by the server.
    await Promise.all(sessions.map(({ client, id }, index) => (index % 2 === 0 ? client.close() : push.disconnect(id))));
    await Promise.all(sessions.map(({ id }) => tracker.whenClosed(id)));
    assert.equal(registry.sessionCount, 0);
    assert.equal(registry.channelCount, 0);
    assert.equal(registry.listenerCount, 0);
    assert.deepEqual(registry.busiestChannels(), []);
    await push.toChannel('news', new Message('news', 'to no one'));
  });

  test('busiestChannels: the busiest first, at most the limit, ten by default; a limit below 1 is refused', async () => {
    const sessions = await Promise.all(Array.from({ length: 13 }, () => connect()));
    // Channel c<n> gets n listeners: c1 has one, c13 thirteen.
    await Promise.all(sessions.flatMap(({ id }, index) => Array.from({ length: 13 - index }, (_, channel) => push.subscribe(id, `c${13 - channel}`))));
    await until('every subscription', () => registry.listenerCount, (count) => count === (13 * 14) / 2);
    const busiest = registry.busiestChannels();
    assert.deepEqual(
      busiest.map(({ channel, listeners }) => `${channel}=${listeners}`),
      [13, 12, 11, 10, 9, 8, 7, 6, 5, 4].map((count) => `c${count}=${count}`),
    );
    assert.deepEqual(registry.busiestChannels(1), [{ channel: 'c13', listeners: 13 }]);
    assert.equal(registry.busiestChannels(100).length, 13);
    for (const limit of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => registry.busiestChannels(limit), { name: 'TypeError', code: 'EASY_WS_INVALID_ARGUMENT' });
    }
    await leave(...sessions);
  });
});

test('two apps built from one module each push to their own sessions only', async () => {
  const shared = EasyWsModule.forRoot();
  const [first, second] = await Promise.all([
    startApp({ imports: [shared], providers: [Channels] }),
    startApp({ imports: [shared], providers: [Channels] }),
  ]);
  const [onFirst, onSecond] = await Promise.all([TestClient.connect(first.url()), TestClient.connect(second.url())]);
  for (const client of [onFirst, onSecond]) {
    client.send('listen: news');
    assert.equal(await client.request('echo: listening'), 'echo: listening');
  }
  await first.app.get(PushService).toChannel('news', new Message('news', 'first only'));
  assert.equal(await onFirst.next(), 'news: first only');
  assert.equal(await onSecond.request('echo: nothing came'), 'echo: nothing came');
  await Promise.all([onFirst.close(), onSecond.close()]);
  await Promise.all([first.close(), second.close()]);
});
