import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type CanActivate, type ExecutionContext, Injectable, UseGuards } from '@nestjs/common';
import { ConnectedSocket, MessageBody } from '@nestjs/websockets';
import {
  type ChannelLeave,
  Command,
  EasyWsModule,
  type EasyWsSession,
  LeaveChannel,
  LEGACY_SUBPROTOCOL,
  ListenChannel,
  Message,
  type PresenceMember,
  PushService,
} from 'nestjs-easy-ws';
import { EasyWsClient } from 'nestjs-easy-ws/client';
import { EasyWsTestClient } from 'nestjs-easy-ws/testing';
import WebSocket from 'ws';
import { startApp, type RunningApp } from '../support/app.js';
import { AsyncQueue } from '../support/async-queue.js';
import { TestClient } from '../support/client.js';
import { nextEvent } from '../support/received.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { until } from '../support/until.js';

const LIMIT = { timeout: 60_000 };

/** Users the room guard turns away, as the application decides now. */
const banned = new Set<string>();

@Injectable()
class NotBanned implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return !banned.has(String(context.switchToWs().getClient<EasyWsSession>().data.user));
  }
}

@Injectable()
class Lobby {
  /** Every leave the leave method saw: who, where, why. */
  readonly leaves: Array<{ sessionId: string; channel: string; reason: string }> = [];

  @ListenChannel('rooms/:room', { presence: { info: (session: EasyWsSession) => ({ user: session.data.user }) } })
  @UseGuards(NotBanned)
  room() {}

  @LeaveChannel('rooms/:room')
  left(@MessageBody() { channel, reason }: ChannelLeave, @ConnectedSocket() session: EasyWsSession) {
    this.leaves.push({ sessionId: session.id, channel, reason });
  }

  @Command('whoami')
  whoami(@ConnectedSocket() session: EasyWsSession) {
    return new Message('me', session.id);
  }

  @Command('ping')
  ping() {
    return new Message('pong');
  }
}

/** The members by session id, for comparisons that do not depend on order. */
function byId(members: readonly PresenceMember[] | undefined): Record<string, unknown> {
  return Object.fromEntries((members ?? []).map(({ sessionId, info }) => [sessionId, info]));
}

describe('presence with the in-process broker', () => {
  let running: RunningApp;
  let proxy: TcpProxy;
  let push: PushService;
  let lobby: Lobby;
  const clients: EasyWsClient[] = [];

  /** A client of user `user` through the proxy, with its session id. */
  async function join(user: string): Promise<{ client: EasyWsClient; id: string }> {
    const client = new EasyWsClient(`${proxy.url()}?token=${user}`, { WebSocket, reconnect: { minDelay: 20, maxDelay: 60 } });
    clients.push(client);
    const me = new Promise<string>((resolve) => client.on('me', resolve));
    client.send('whoami');
    return { client, id: await me };
  }

  before(async () => {
    running = await startApp({
      imports: [EasyWsModule.forRoot({ token: { query: 'token' }, authenticate: (token) => ({ user: token, sub: token }) })],
      providers: [Lobby, NotBanned],
    });
    push = running.app.get(PushService);
    lobby = running.app.get(Lobby);
    proxy = await TcpProxy.start(running.port);
  });
  after(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await proxy.close();
    await running.close();
  });

  test('members are listed with their info, and counted', LIMIT, async () => {
    const ada = await join('ada');
    const bob = await join('bob');
    await ada.client.listen('rooms/list');
    await bob.client.listen('rooms/list');
    assert.deepEqual(byId(await push.presence('rooms/list')), { [ada.id]: { user: 'ada' }, [bob.id]: { user: 'bob' } });
    assert.equal(await push.presenceCount('rooms/list'), 2);
    assert.deepEqual(byId(bob.client.presence('rooms/list')), byId(await push.presence('rooms/list')), 'the answer to a listen names the members');
    await assert.rejects(async () => push.presence('nowhere'), { code: 'EASY_WS_INVALID_ARGUMENT' });
  });

  test('listeners are told of every join, and of every way of leaving, and the leave method runs for each', LIMIT, async () => {
    const watcher = await join('watcher');
    await watcher.client.listen('rooms/w');
    const events = new AsyncQueue<string>();
    watcher.client.onEvent('join', ({ channel, sessionId, info }) => events.push(`join ${channel} ${sessionId} ${JSON.stringify(info)}`));
    watcher.client.onEvent('leave', ({ channel, sessionId }) => events.push(`leave ${channel} ${sessionId}`));

    const unlistening = await join('u1');
    await unlistening.client.listen('rooms/w');
    assert.equal(await events.next(), `join rooms/w ${unlistening.id} {"user":"u1"}`);
    await unlistening.client.unlisten('rooms/w');
    assert.equal(await events.next(), `leave rooms/w ${unlistening.id}`);

    const closing = await join('u2');
    await closing.client.listen('rooms/w');
    assert.equal(await events.next(), `join rooms/w ${closing.id} {"user":"u2"}`);
    await closing.client.close();
    assert.equal(await events.next(), `leave rooms/w ${closing.id}`);

    const unsubscribed = await join('u3');
    await unsubscribed.client.listen('rooms/w');
    assert.equal(await events.next(), `join rooms/w ${unsubscribed.id} {"user":"u3"}`);
    await push.unsubscribe(unsubscribed.id, 'rooms/w');
    assert.equal(await events.next(), `leave rooms/w ${unsubscribed.id}`);

    const denied = await join('u4');
    await denied.client.listen('rooms/w');
    assert.equal(await events.next(), `join rooms/w ${denied.id} {"user":"u4"}`);
    const left = nextEvent(denied.client, 'left');
    banned.add('u4');
    await push.recheck({ userId: 'u4' });
    assert.equal(await events.next(), `leave rooms/w ${denied.id}`);
    banned.delete('u4');
    assert.deepEqual(await left, { channel: 'rooms/w', reason: 'not authorized' });
    assert.equal(denied.client.channels.has('rooms/w'), false, 'the client no longer counts it among its channels');

    const expected = [
      [unlistening.id, 'unlisten'],
      [closing.id, 'disconnect'],
      [unsubscribed.id, 'unsubscribe'],
      [denied.id, 'denied'],
    ] as const;
    await until('the last leave method to run', () => lobby.leaves.filter(({ channel }) => channel === 'rooms/w').length, (count) => count === 4);
    assert.deepEqual(
      lobby.leaves.filter(({ channel }) => channel === 'rooms/w'),
      expected.map(([sessionId, reason]) => ({ sessionId, channel: 'rooms/w', reason })),
    );
  });

  test('a client of the original protocol is a member and its leave runs the leave method, but it sees nothing new', LIMIT, async () => {
    const watcher = await join('watcher2');
    await watcher.client.listen('rooms/legacy');
    const joined = nextEvent(watcher.client, 'join');
    const legacy = await TestClient.connect(`${running.url()}?token=old`, { protocols: [LEGACY_SUBPROTOCOL] });
    legacy.send('listen: rooms/legacy');
    const { sessionId: legacyId, ...rest } = await joined;
    assert.deepEqual(rest, { channel: 'rooms/legacy', info: { user: 'old' } });
    assert.equal(await push.presenceCount('rooms/legacy'), 2);
    const other = await join('other');
    await other.client.listen('rooms/legacy');
    assert.equal(await legacy.request('ping: '), 'pong: ', 'no presence event reached the old client');
    const leave = nextEvent(watcher.client, 'leave');
    await legacy.close();
    assert.equal((await leave).sessionId, legacyId);
    await until('the leave method to run', () => lobby.leaves.some(({ sessionId }) => sessionId === legacyId), (ran) => ran);
  });

  test('after a reconnect, the client\'s view equals the server\'s, and it was told what it missed', LIMIT, async () => {
    const viewer = await join('viewer');
    const staying = await join('staying');
    const going = await join('going');
    for (const { client } of [viewer, staying, going]) {
      await client.listen('rooms/v');
    }
    await until('the viewer to see the three members', () => viewer.client.presence('rooms/v')?.length, (count) => count === 3);
    proxy.refuse(true);
    const closed = nextEvent(viewer.client, 'close');
    proxy.cut(); // every client through the proxy drops: all come back
    await closed;
    const missed: string[] = [];
    viewer.client.onEvent('leave', ({ sessionId }) => missed.push(`leave ${sessionId}`));
    await going.client.close();
    const reopened = nextEvent(viewer.client, 'open');
    proxy.refuse(false);
    await reopened;
    await until('the other client to listen again', () => push.presenceCount('rooms/v'), (count) => count === 2);
    const server = byId(await push.presence('rooms/v'));
    await until('the viewer\'s view to take in the last events', () => byId(viewer.client.presence('rooms/v')), (view) => JSON.stringify(Object.keys(view).sort()) === JSON.stringify(Object.keys(server).sort()));
    assert.deepEqual(byId(viewer.client.presence('rooms/v')), server);
    assert.ok(missed.includes(`leave ${going.id}`), `the leave of the session that went while the viewer was away: ${missed.join(', ')}`);
  });

  test('a storm of 300 joins reaches a listener as a few events, each join once', LIMIT, async () => {
    const watcher = await EasyWsTestClient.connect(running.app, { token: 'storm-watcher' });
    const answer = await watcher.track('rooms/storm');
    assert.deepEqual(answer.ok && answer.members?.map(({ info }) => info), [{ user: 'storm-watcher' }], 'the watcher is the only member at first');
    const storm = await Promise.all(Array.from({ length: 300 }, (_, index) => TestClient.connect(`${running.url()}?token=s${index}`)));
    const started = Date.now();
    for (const client of storm) {
      client.send('listen: rooms/storm');
    }
    const joined = new Set<string>();
    let events = 0;
    while (joined.size < 300) {
      const { joins } = await watcher.expectEvent('presence');
      events++;
      for (const { sessionId } of joins) {
        assert.ok(!joined.has(sessionId), 'each join once');
        joined.add(sessionId);
      }
    }
    const seconds = (Date.now() - started) / 1000;
    assert.ok(events <= Math.ceil(seconds * 10) + 2, `${events} events in ${seconds.toFixed(2)} s: joins within 100 ms go out together`);
    console.log(`# 300 joins reached a listener as ${events} presence events in ${seconds.toFixed(2)} s`);
    assert.equal((await watcher.presence('rooms/storm')).length, 301);
    await Promise.all([watcher, ...storm].map((client) => client.close()));
  });

});
