import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type CanActivate, type ExecutionContext, Injectable, UseGuards } from '@nestjs/common';
import { ConnectedSocket } from '@nestjs/websockets';
import {
  ACKNOWLEDGED_SUBPROTOCOL,
  type ChannelRequest,
  CLOSE_CODES,
  Command,
  EasyWsModule,
  type EasyWsSession,
  LEGACY_SUBPROTOCOL,
  ListenChannel,
  Message,
  PushService,
  SessionRegistry,
} from 'nestjs-easy-ws';
import { EasyWsClient } from 'nestjs-easy-ws/client';
import { EasyWsTestClient } from 'nestjs-easy-ws/testing';
import WebSocket from 'ws';
import { EASY_WS_CLOCK } from '../../lib/endpoint/clock.js';
import { startApp, type RunningApp } from '../support/app.js';
import { TestClient } from '../support/client.js';
import { FakeClock } from '../support/fake-clock.js';
import { tryUpgrade } from '../support/http.js';
import { nextEvent, range, Received } from '../support/received.js';

const LIMIT = { timeout: 30_000 };
const MINUTE = 60_000;

/**
 * Tokens are JSON here, as a JWT's payload would be after verification:
 * `{"sub":"ada","rooms":["a","b"],"exp":<seconds>}`. A real app verifies a signed token.
 */
function token(sub: string, rooms: string[], expiresAt: number): string {
  return encodeURIComponent(JSON.stringify({ sub, rooms, exp: Math.floor(expiresAt / 1000) }));
}

@Injectable()
class RoomMember implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const { rooms } = context.switchToWs().getClient<EasyWsSession>().data as { rooms: string[] };
    return rooms.includes(context.switchToWs().getData<ChannelRequest>().params.room);
  }
}

@Injectable()
class Rooms {
  @ListenChannel('rooms/:room')
  @UseGuards(RoomMember)
  room() {}

  @Command('whoami')
  whoami(@ConnectedSocket() session: EasyWsSession) {
    return new Message('me', { id: session.id, user: session.userId, expiresAt: session.expiresAt, rooms: session.data.rooms });
  }
}

describe('the auth lifecycle', () => {
  let running: RunningApp;
  let clock: FakeClock;
  let push: PushService;
  const clients: EasyWsClient[] = [];

  function url(value: string): string {
    return `${running.url()}?token=${value}`;
  }

  function client(value: string, refreshToken?: () => Promise<string>): EasyWsClient {
    const made = new EasyWsClient(url(value), { WebSocket, reconnect: false, refreshToken });
    clients.push(made);
    return made;
  }

  before(async () => {
    clock = new FakeClock();
    running = await startApp(
      {
        imports: [
          EasyWsModule.forRoot({
            token: { query: 'token' },
            authenticate: (value) => JSON.parse(value) as Record<string, unknown>,
            refreshBefore: 10_000,
            maxConnectionsPerUser: 3,
          }),
        ],
        providers: [Rooms, RoomMember],
      },
      { prepare: (builder) => builder.overrideProvider(EASY_WS_CLOCK).useValue(clock) },
    );
    push = running.app.get(PushService);
  });
  after(async () => {
    await Promise.all(clients.map((made) => made.close()));
    await running.close();
  });

  test('the user is the token\'s sub, and the expiry its exp', LIMIT, async () => {
    const expiresAt = clock.now() + MINUTE;
    const ada = await TestClient.connect(url(token('ada', ['a'], expiresAt)));
    const me = JSON.parse((await ada.request('whoami: ')).replace(/^me: /, '')) as { user: string; expiresAt: number };
    assert.deepEqual([me.user, me.expiresAt], ['ada', Math.floor(expiresAt / 1000) * 1000]);
    await ada.close();
  });

  test('a session closes with 4001 when its token expires, in either mode', LIMIT, async () => {
    const expiresAt = clock.now() + MINUTE;
    const legacy = await TestClient.connect(url(token('bob', ['a'], expiresAt)), { protocols: [LEGACY_SUBPROTOCOL] });
    const acknowledged = await TestClient.connect(url(token('bob', ['a'], expiresAt)), { protocols: [ACKNOWLEDGED_SUBPROTOCOL] });
    clock.advance(MINUTE - 10_000);
    assert.match(await acknowledged.next(), /^websocket: \{"event":"expiring","expiresAt":\d+\}$/, 'told ahead, in acknowledged mode');
    clock.advance(10_000);
    assert.deepEqual(await legacy.closed, { code: CLOSE_CODES.tokenExpired, reason: 'token expired' });
    assert.deepEqual(await acknowledged.closed, { code: 4001, reason: 'token expired' });
  });

  test('a token that has expired already is refused at the handshake with 403', LIMIT, async () => {
    assert.deepEqual(await tryUpgrade(running.port, {}, `/ws?token=${token('old', [], Date.now() - 1000)}`), { status: 403, body: 'Authentication failed\n' });
  });

  test('a refresh moves the expiry and keeps every channel that still passes', LIMIT, async () => {
    const expiresAt = clock.now() + MINUTE;
    const carol = client(token('carol', ['a', 'b'], expiresAt), async () => decodeURIComponent(token('carol', ['a', 'b'], expiresAt + 10 * MINUTE)));
    await carol.listen('rooms/a');
    await carol.listen('rooms/b');
    const refreshed = nextEvent(carol, 'refreshed');
    clock.advance(MINUTE - 10_000);
    assert.deepEqual(await refreshed, { expiresAt: Math.floor((expiresAt + 10 * MINUTE) / 1000) * 1000 });
    clock.advance(2 * MINUTE);
    const said = new Received(carol, 'said');
    await push.toChannel('rooms/a', new Message('said', '1'));
    await push.toChannel('rooms/b', new Message('said', '2'));
    assert.deepEqual(await said.count(2), [1, 2], 'still open past the old expiry, still in both rooms');
    assert.equal(carol.state, 'open');
  });

  test('a refresh that changes the data leaves exactly the channels whose guard now denies, and says which', LIMIT, async () => {
    const expiresAt = clock.now() + MINUTE;
    const dave = client(token('dave', ['a', 'b', 'c'], expiresAt), async () => decodeURIComponent(token('dave', ['a', 'c'], expiresAt + MINUTE)));
    for (const room of ['a', 'b', 'c']) {
      await dave.listen(`rooms/${room}`);
    }
    const left = nextEvent(dave, 'left');
    clock.advance(MINUTE - 10_000);
    assert.deepEqual(await left, { channel: 'rooms/b', reason: 'not authorized' });
    assert.deepEqual([...dave.channels].sort(), ['rooms/a', 'rooms/c']);
    const [session] = [...running.app.get(SessionRegistry).listeners('rooms/a')].filter((each) => each.userId === 'dave');
    assert.deepEqual([...session.channels].sort(), ['rooms/a', 'rooms/c'], 'the server agrees');
  });

  test('a refresh with a bad token, or another user\'s, closes the session with 4001', LIMIT, async () => {
    const expiresAt = clock.now() + MINUTE;
    for (const bad of ['not json', decodeURIComponent(token('mallory', ['a'], expiresAt + MINUTE)), decodeURIComponent(token('erin', ['a'], clock.now() - 1000))]) {
      const erin = await EasyWsTestClient.connect(running.app, { token: decodeURIComponent(token('erin', ['a'], expiresAt)) });
      const refused = erin.refresh(bad).catch(() => undefined);
      assert.deepEqual(await erin.expectClose(4001), { code: 4001, reason: 'token expired' }, bad);
      await refused;
    }
  });

  test('the test kit sees the warning ahead of expiry, and refreshes', LIMIT, async () => {
    const expiresAt = clock.now() + MINUTE;
    const kit = await EasyWsTestClient.connect(running.app, { token: decodeURIComponent(token('kit', ['a'], expiresAt)) });
    clock.advance(MINUTE - 10_000);
    assert.equal((await kit.expectEvent('expiring')).expiresAt, Math.floor(expiresAt / 1000) * 1000);
    const later = expiresAt + 10 * MINUTE;
    const answer = await kit.refresh(decodeURIComponent(token('kit', ['a'], later)));
    assert.equal(answer.ok && answer.expiresAt, Math.floor(later / 1000) * 1000);
    clock.advance(2 * MINUTE);
    await kit.expectNoFrame(50);
    await kit.close();
  });


  test('the client refreshes by itself before expiry, and no frame is lost around it', LIMIT, async () => {
    let expiresAt = clock.now() + MINUTE;
    let refreshes = 0;
    const frank = client(token('frank', ['f'], expiresAt), async () => {
      refreshes++;
      expiresAt += MINUTE;
      return decodeURIComponent(token('frank', ['f'], expiresAt));
    });
    const said = new Received(frank, 'said');
    await frank.listen('rooms/f');
    for (const round of range(1, 3)) {
      const refreshed = nextEvent(frank, 'refreshed');
      await push.toChannel('rooms/f', new Message('said', String(round * 2 - 1)));
      clock.advance(MINUTE - 5_000);
      await refreshed;
      await push.toChannel('rooms/f', new Message('said', String(round * 2)));
      clock.advance(5_000);
    }
    assert.equal(refreshes, 3);
    assert.deepEqual(await said.count(6), range(1, 6));
    assert.equal(frank.state, 'open');
  });

  test('toUser and disconnectUser reach every session of the user, once each', LIMIT, async () => {
    const expiresAt = clock.now() + 10 * MINUTE;
    const sessions = await Promise.all([1, 2].map(() => TestClient.connect(url(token('gina', ['a'], expiresAt)))));
    const other = await TestClient.connect(url(token('hank', ['a'], expiresAt)));
    await push.toUser('gina', new Message('hello', 'gina'));
    assert.deepEqual(await Promise.all(sessions.map((session) => session.next())), ['hello: gina', 'hello: gina']);
    assert.equal(await other.request('whoami: ').then((frame) => frame.startsWith('me: ')), true, 'the other user got nothing before its answer');
    await push.disconnectUser('gina', 4003, 'banned');
    assert.deepEqual(await Promise.all(sessions.map((session) => session.closed)), [
      { code: 4003, reason: 'banned' },
      { code: 4003, reason: 'banned' },
    ]);
    await other.close();
  });

  test('maxConnectionsPerUser refuses one connection too many of a user with 503', LIMIT, async () => {
    const expiresAt = clock.now() + 10 * MINUTE;
    const held = await Promise.all([1, 2, 3].map(() => TestClient.connect(url(token('ivan', [], expiresAt)))));
    assert.deepEqual(await tryUpgrade(running.port, {}, `/ws?token=${token('ivan', [], expiresAt)}`), { status: 503, body: 'Too many connections\n' });
    await held[0].close();
    const again = await TestClient.connect(url(token('ivan', [], expiresAt)));
    await Promise.all([...held.slice(1), again].map((each) => each.close()));
  });
});
