import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { type CanActivate, type ExecutionContext, Inject, Injectable, UseGuards } from '@nestjs/common';
import { type ChannelRequest, EasyWsModule, type EasyWsSession, ListenChannel, Message, PushService, RedisBroker } from 'nestjs-easy-ws';
import { EasyWsTestClient } from 'nestjs-easy-ws/testing';
import { startApp, type RunningApp } from '../support/app.js';
import { REDIS_URL, removeKeys, uniquePrefix } from '../support/relay.js';

const LIMIT = { timeout: 30_000 };
const prefix = uniquePrefix('users');

/** Who may be in which room, as a database all instances share would say: `<user> <room>` pairs. */
const MEMBERSHIPS = Symbol('MEMBERSHIPS');

@Injectable()
class RoomMember implements CanActivate {
  constructor(@Inject(MEMBERSHIPS) private readonly memberships: Set<string>) {}

  canActivate(context: ExecutionContext): boolean {
    const { userId } = context.switchToWs().getClient<EasyWsSession>();
    return this.memberships.has(`${userId} ${context.switchToWs().getData<ChannelRequest>().params.room}`);
  }
}

@Injectable()
class Rooms {
  @ListenChannel('rooms/:room')
  @UseGuards(RoomMember)
  room() {}
}

const memberships = new Set(['ada a', 'ada b', 'bob a']);
let instances: RunningApp[];
const clients: EasyWsTestClient[] = [];

before(async () => {
  instances = await Promise.all(
    [1, 2, 3].map(() =>
      startApp({
        imports: [
          EasyWsModule.forRoot({
            token: { query: 'user' },
            authenticate: (user) => ({ sub: user }),
            broker: new RedisBroker({ url: REDIS_URL, prefix }),
          }),
        ],
        providers: [Rooms, RoomMember, { provide: MEMBERSHIPS, useValue: memberships }],
      }),
    ),
  );
});

after(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await Promise.all((instances ?? []).map((instance) => instance.close()));
  await removeKeys(prefix);
});

/** A session of `user` on each instance. */
async function sessionsOf(user: string): Promise<EasyWsTestClient[]> {
  const opened = await Promise.all(instances.map((instance) => EasyWsTestClient.connect(instance.app, { token: user })));
  clients.push(...opened);
  return opened;
}

test('toUser reaches every session of the user on every instance, once each, and no one else', LIMIT, async () => {
  const ada = await sessionsOf('ada');
  const [bob] = await sessionsOf('bob');
  await instances[1].app.get(PushService).toUser('ada', new Message('hello', 'ada'));
  for (const session of ada) {
    assert.equal((await session.expectFrame()).text, 'hello: ada');
    await session.expectNoFrame(200, 'hello: ada');
  }
  await bob.expectNoFrame(200);
});

test('disconnectUser closes every session of the user, on every instance', LIMIT, async () => {
  const cy = await sessionsOf('cy');
  const [dee] = await sessionsOf('dee');
  await instances[2].app.get(PushService).disconnectUser('cy', 4003, 'banned');
  for (const session of cy) {
    assert.deepEqual(await session.expectClose(), { code: 4003, reason: 'banned' });
  }
  assert.equal((await dee.listen('rooms/none').catch((error: Error) => error.message)), 'not authorized', 'another user stays connected');
});

test('recheck by user id, on any instance, leaves exactly the rooms the guard now denies, on every instance', LIMIT, async () => {
  const ada = await sessionsOf('ada');
  for (const session of ada) {
    await session.listen('rooms/a');
    await session.listen('rooms/b');
  }
  const [bob] = await sessionsOf('bob');
  await bob.listen('rooms/a');
  memberships.delete('ada a');
  await instances[0].app.get(PushService).recheck({ userId: 'ada' });
  for (const session of ada) {
    assert.deepEqual(await session.expectEvent('left'), { event: 'left', channel: 'rooms/a', reason: 'not authorized' });
  }
  await instances[2].app.get(PushService).toChannel('rooms/a', new Message('said', 'a'));
  await instances[2].app.get(PushService).toChannel('rooms/b', new Message('said', 'b'));
  for (const session of ada) {
    assert.equal((await session.expectFrame((frame) => frame.command === 'said')).text, 'said: b', 'still in rooms/b, no longer in rooms/a');
  }
  assert.equal((await bob.expectFrame((frame) => frame.command === 'said')).text, 'said: a', 'another user is not rechecked');
});
