import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { Injectable, type INestApplication } from '@nestjs/common';
import { ConnectedSocket, MessageBody } from '@nestjs/websockets';
import { Test } from '@nestjs/testing';
import { Command, EasyWsModule, type EasyWsOptions, type EasyWsSession, Message } from 'nestjs-easy-ws';
import { EasyWsConnectionRefusedError, EasyWsExpectationError, EasyWsTestClient, type TestFrame } from 'nestjs-easy-ws/testing';
import { startApp, type RunningApp } from '../support/app.js';
import { chatFixture } from '../support/chat-fixture.js';

/** Short, for expectations that are meant to fail. */
const SHORT = { timeout: 50 };

/** Tells the client who the server thinks it is. */
@Injectable()
class Identity {
  @Command('whoami')
  whoami(@ConnectedSocket() session: EasyWsSession) {
    return new Message('whoami', { user: session.data.user ?? null, token: session.token ?? null });
  }
}

/** Sends frames on request, beside the chat fixture's commands. */
@Injectable()
class Probe {
  /** Answers with one frame per word: `count: a b` gets `word: a` and `word: b`. */
  @Command('count')
  count(@MessageBody() words: string, @ConnectedSocket() session: EasyWsSession) {
    for (const word of words.split(' ')) {
      session.send(new Message('word', word));
    }
  }

  @Command('bytes')
  bytes(@MessageBody() data: Buffer) {
    return new Message('bytes', Uint8Array.from([...data].reverse()));
  }

  @Command('bye')
  bye(@ConnectedSocket() session: EasyWsSession) {
    session.close(4001, 'bye');
  }
}

const AUTHENTICATE: EasyWsOptions['authenticate'] = (token) => token === 'secret' && { user: 'ann' };

describe('connecting', () => {
  test('to an application that does not listen yet starts it once, on 127.0.0.1, for clients connecting at once', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [EasyWsModule.forRoot()], providers: [Identity] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    try {
      const clients = await Promise.all([EasyWsTestClient.connect(app), EasyWsTestClient.connect(app)]);
      const { address } = app.getHttpServer().address() as AddressInfo;
      assert.equal(address, '127.0.0.1');
      for (const client of clients) {
        client.send('whoami');
        assert.equal((await client.expectFrame('whoami')).text, 'whoami: {"user":null,"token":null}');
        assert.equal(client.protocol, 'easy-ws.v1');
      }
      await Promise.all(clients.map((client) => client.close()));
    } finally {
      await app.close();
    }
  });

  for (const token of [{ cookie: 'auth' }, { header: 'x-token' }, { query: 'token' }] as const) {
    test(`puts the token where the application reads it: ${JSON.stringify(token)}`, async () => {
      const running = await startApp({ imports: [EasyWsModule.forRoot({ token, authenticate: AUTHENTICATE })], providers: [Identity] });
      try {
        const client = await EasyWsTestClient.connect(running.app, { token: 'secret' });
        client.send('whoami');
        assert.deepEqual((await client.expectFrame('whoami')).json(), { user: 'ann', token: 'secret' });
        await client.close();
        await assert.rejects(EasyWsTestClient.connect(running.app, { token: 'wrong' }), (error: unknown) => {
          assert.ok(error instanceof EasyWsConnectionRefusedError);
          assert.equal(error.code, 'EASY_WS_CONNECTION_REFUSED');
          assert.equal(error.status, 403);
          assert.equal(error.body, 'Authentication failed\n');
          return true;
        });
      } finally {
        await running.close();
      }
    });
  }

  test('takes cookies, headers and query parameters as given, and a URL instead of the application', async () => {
    const running = await startApp({
      imports: [EasyWsModule.forRoot({ token: (request) => `${request.headers['x-a']}/${request.headers.cookie}/${request.url}` })],
      providers: [Identity],
    });
    try {
      const client = await EasyWsTestClient.connect(running.url(), {
        headers: { 'x-a': 'header' },
        cookies: { one: 'a b', two: '2' },
        query: { q: 'v' },
        protocols: ['cmd.fossores.de'],
      });
      assert.equal(client.protocol, 'cmd.fossores.de');
      client.send('whoami');
      assert.deepEqual((await client.expectFrame('whoami')).json(), { user: null, token: 'header/one=a%20b; two=2//ws?q=v' });
      await client.close();
    } finally {
      await running.close();
    }
  });

  test('refuses a token it cannot place, and an application without EasyWsModule and no path', async () => {
    const running = await startApp({ imports: [EasyWsModule.forRoot({ token: () => undefined })], providers: [Identity] });
    const bare = await startApp({});
    try {
      await assert.rejects(EasyWsTestClient.connect(running.app, { token: 'x' }), { code: 'EASY_WS_INVALID_OPTIONS', message: /reads it with a function/ });
      await assert.rejects(EasyWsTestClient.connect(running.url(), { token: 'x' }), { code: 'EASY_WS_INVALID_OPTIONS', message: /with a URL/ });
      await assert.rejects(EasyWsTestClient.connect(bare.app), { code: 'EASY_WS_INVALID_ARGUMENT', message: /does not import EasyWsModule/ });
      await assert.rejects(EasyWsTestClient.connect(running.app, { timeout: 0 }), { code: 'EASY_WS_INVALID_OPTIONS', message: /"timeout"/ });
      await assert.rejects(EasyWsTestClient.connect(bare.app, { path: '/ws' }), { code: 'EASY_WS_CONNECTION_REFUSED', status: 404 });
    } finally {
      await Promise.all([running.close(), bare.close()]);
    }
  });
});

describe('expectations', () => {
  let running: RunningApp;
  let app: INestApplication;
  before(async () => {
    running = await startApp({ ...chatFixture(), providers: [...(chatFixture().providers ?? []), Probe] });
    app = running.app;
  });
  after(() => running.close());

  test('expectFrame takes the oldest frame with the command and leaves the others unread, in order', async () => {
    const client = await EasyWsTestClient.connect(app);
    client.send('count', 'a b');
    client.send('echo', 'last');
    assert.equal((await client.expectFrame('echo')).data, 'last');
    assert.deepEqual(client.unread.map((frame) => frame.text), ['word: a', 'word: b']);
    assert.equal((await client.expectFrame()).text, 'word: a');
    assert.equal((await client.expectFrame((frame: TestFrame) => frame.data === 'b')).text, 'word: b');
    await client.close();
  });

  test('a frame that does not come fails with what did arrive, from the line of the test', async () => {
    const client = await EasyWsTestClient.connect(app);
    client.send('count', 'a b');
    await client.expectFrame((frame: TestFrame) => frame.data === 'b');
    const failure = await client.expectFrame('said', SHORT).then(
      () => assert.fail('no "said" frame was sent'),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof EasyWsExpectationError);
    assert.equal(failure.code, 'EASY_WS_EXPECTATION_FAILED');
    assert.equal(failure.message, 'Expected a frame "said" within 50 ms, but none came. Frames that arrived and were not taken (1):\n  "word: a"');
    assert.deepEqual(failure.received.map((frame) => frame.text), ['word: a']);
    assert.match(failure.stack ?? '', /test-kit\.e2e\.test\.js/);
    await client.close();
  });

  test('a frame waited for when the connection closes fails with the close code', async () => {
    const client = await EasyWsTestClient.connect(app);
    const waiting = client.expectFrame('said');
    client.send('bye');
    await assert.rejects(waiting, {
      code: 'EASY_WS_EXPECTATION_FAILED',
      message: 'Expected a frame "said", but the connection closed (4001 "bye"). No other frame arrived.',
      closed: { code: 4001, reason: 'bye' },
    });
    await assert.rejects(client.expectFrame(), { message: /^Expected a frame, but the connection closed \(4001 "bye"\)/ });
  });

  test('expectNoFrame fails on a frame that arrives, or had arrived, and leaves it unread', async () => {
    const client = await EasyWsTestClient.connect(app);
    await client.expectNoFrame(20);
    const quiet = client.expectNoFrame(5000, 'word');
    client.send('count', 'late');
    await assert.rejects(quiet, { code: 'EASY_WS_EXPECTATION_FAILED', message: /^Expected no frame "word" within 5000 ms, but "word: late" arrived/ });
    await assert.rejects(client.expectNoFrame(20), { message: /^Expected no frame, but "word: late" had arrived/ });
    await client.expectNoFrame(20, 'echo');
    assert.equal((await client.expectFrame()).text, 'word: late');
    await client.close();
  });

  test('expectClose resolves with the close, and fails on another code or none in time', async () => {
    const client = await EasyWsTestClient.connect(app);
    await assert.rejects(client.expectClose(undefined, SHORT), { message: 'Expected the connection to close within 50 ms, but it is still open. No other frame arrived.' });
    client.send('bye');
    await assert.rejects(client.expectClose(1000), { message: 'Expected the connection to close with 1000, but it closed (4001 "bye"). No other frame arrived.' });
    assert.deepEqual(await client.expectClose(4001), { code: 4001, reason: 'bye' });
    assert.throws(() => client.send('echo', 'x'), { code: 'EASY_WS_CLIENT_CLOSED', message: /closed \(4001 "bye"\)/ });
  });

  test('listen and unlisten resolve with the answer, or reject with the notice; the channel\'s first frame stays unread', async () => {
    const client = await EasyWsTestClient.connect(app);
    assert.deepEqual(await client.listen('rooms/lobby'), { op: 'listen', channel: 'rooms/lobby', ok: true });
    assert.equal((await client.expectFrame('joined')).data, 'lobby');
    await assert.rejects(client.listen('rooms/lobby'), { name: 'EasyWsNoticeError', code: 'EASY_WS_NOTICE', message: 'already listening' });
    await assert.rejects(client.listen('rooms/staff'), { code: 'EASY_WS_NOTICE', message: 'not authorized', notice: { text: 'not authorized', op: 'listen', channel: 'rooms/staff' } });
    assert.deepEqual(await client.unlisten('rooms/lobby'), { op: 'unlisten', channel: 'rooms/lobby', ok: true });
    await assert.rejects(client.unlisten('rooms/lobby'), { code: 'EASY_WS_NOTICE', message: 'not listening' });
    assert.deepEqual(client.unread, []);
    await client.close();
  });

  test('listen in the original protocol says how to send the frame instead', async () => {
    const client = await EasyWsTestClient.connect(app, { protocols: ['cmd.fossores.de'] });
    await assert.rejects(client.listen('news'), { code: 'EASY_WS_INVALID_OPTIONS', message: /only acknowledged mode .* sendFrame\('listen: news'\)/ });
    client.sendFrame('listen: rooms/lobby');
    assert.equal((await client.expectFrame()).text, 'joined: lobby');
    await client.close();
  });

  test('send checks the command; sendJson writes JSON; bytes go both ways as binary frames', async () => {
    const client = await EasyWsTestClient.connect(app);
    assert.throws(() => client.send('listen', 'news'), { code: 'EASY_WS_INVALID_ARGUMENT', message: /"listen" is reserved/ });
    assert.throws(() => client.sendJson('echo', undefined), { code: 'EASY_WS_INVALID_ARGUMENT', message: /cannot be written as JSON/ });
    client.sendJson('echo', { a: [1] });
    const echoed = await client.expectFrame('echo');
    assert.deepEqual(echoed.json(), { a: [1] });
    client.send('bytes', Uint8Array.from([1, 2, 3]));
    const bytes = await client.expectFrame('bytes');
    assert.equal(bytes.binary, true);
    assert.deepEqual(bytes.bytes, Buffer.concat([Buffer.from('bytes: '), Buffer.from([3, 2, 1])]));
    client.send('echo', 'not json');
    const text = await client.expectFrame('echo');
    assert.throws(() => text.json(), { code: 'EASY_WS_EXPECTATION_FAILED', message: 'Expected the data of the frame "echo" to be JSON, got "echo: not json"' });
    await client.close();
  });
});
