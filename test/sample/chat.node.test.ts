// The sample's chat, tested with node:test and the test kit (docs/testing.md shows this file).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { INestApplication } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { Test } from '@nestjs/testing';
import { EasyWsTestClient } from 'nestjs-easy-ws/testing';
import { AppModule } from '../../sample/app.module.js';

let app: INestApplication;

before(async () => {
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  app = moduleRef.createNestApplication({ logger: false });
});

after(() => app.close());

/** A client of `user`, with a token as the sample's login signs it; none without a user. */
function connect(user?: string): Promise<EasyWsTestClient> {
  return EasyWsTestClient.connect(app, user === undefined ? {} : { token: app.get(JwtService).sign({ sub: user, user }) });
}

test('alice and bob chat in the lobby', async () => {
  const alice = await connect('alice');
  const bob = await connect('bob');
  await alice.listen('rooms/lobby');
  assert.deepEqual((await alice.expectFrame('joined')).json(), { room: 'lobby', recent: [] });
  await bob.listen('rooms/lobby');

  alice.sendJson('say', { room: 'lobby', text: 'hi bob' });
  const said = { room: 'lobby', user: 'alice', text: 'hi bob' };
  assert.deepEqual((await bob.expectFrame('said')).json(), said);
  assert.deepEqual((await alice.expectFrame('said')).json(), said);

  await bob.unlisten('rooms/lobby');
  alice.sendJson('say', { room: 'lobby', text: 'anyone?' });
  await alice.expectFrame('said');
  await bob.expectNoFrame(100, 'said');

  const carol = await connect('carol');
  await carol.listen('rooms/lobby');
  const { recent } = (await carol.expectFrame('joined')).json() as { recent: Array<{ text: string }> };
  assert.deepEqual(recent.map(({ text }) => text), ['hi bob', 'anyone?'], 'a newcomer gets the latest messages');
  await Promise.all([alice.close(), bob.close(), carol.close()]);
});

test('the staff room is for admin only', async () => {
  const bob = await connect('bob');
  await assert.rejects(bob.listen('rooms/staff'), { code: 'EASY_WS_NOTICE', message: 'not authorized' });
  const admin = await connect('admin');
  await admin.listen('rooms/staff');
  await Promise.all([bob.close(), admin.close()]);
});

test('a say that is not valid is refused with a notice', async () => {
  const alice = await connect('alice');
  alice.sendJson('say', { room: 'lobby' });
  const notice = await alice.expectFrame('websocket');
  assert.deepEqual(notice.json(), { op: 'command', command: 'say', ok: false, error: 'say needs {"room": name, "text": words}' });
  await alice.close();
});

test('a connection without a token is refused', async () => {
  await assert.rejects(connect(), { code: 'EASY_WS_CONNECTION_REFUSED', status: 403 });
});
