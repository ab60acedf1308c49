import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { Test } from '@nestjs/testing';
import { EasyWsAdapter, Message } from 'nestjs-easy-ws';
import { startApp, type RunningApp } from '../support/app.js';
import { chatFixture } from '../support/chat-fixture.js';
import { TestClient } from '../support/client.js';

/** A test that waits for what never comes fails instead of hanging. */
const LIMIT = { timeout: 20_000 };

@WebSocketGateway({ path: '/gateway' })
class EchoGateway {
  @SubscribeMessage('echo')
  echo(@MessageBody() data: string) {
    return new Message('echo', data);
  }
}

const ACKNOWLEDGED = ['easy-ws.v1'];
const LEGACY = ['cmd.fossores.de'];

let running: RunningApp;
before(async () => {
  running = await startApp(chatFixture());
});
after(() => running.close());

describe('subprotocol', LIMIT, () => {
  for (const [offered, chosen] of [
    [['easy-ws.v1'], 'easy-ws.v1'],
    [['easy-ws.v1', 'cmd.fossores.de'], 'easy-ws.v1'],
    [['cmd.fossores.de'], 'cmd.fossores.de'],
    [[], ''],
  ] as const) {
    test(`offered ${JSON.stringify(offered)}: the server chooses ${JSON.stringify(chosen)}`, async () => {
      const client = await TestClient.connect(running.url(), { protocols: [...offered] });
      assert.equal(client.socket.protocol, chosen);
      await client.close();
    });
  }
});

describe('acknowledged mode (easy-ws.v1)', LIMIT, () => {
  test('every listen and unlisten gets exactly one answer, naming its channel', async () => {
    const client = await TestClient.connect(running.url(), { protocols: ACKNOWLEDGED });
    assert.equal(await client.request('listen: news'), 'websocket: {"op":"listen","channel":"news","ok":true}');
    assert.equal(await client.request('listen: news'), 'websocket: {"op":"listen","channel":"news","ok":false,"error":"already listening"}');
    assert.equal(await client.request('listen: nowhere'), 'websocket: {"op":"listen","channel":"nowhere","ok":false,"error":"channel does not exist"}');
    assert.equal(await client.request('listen: rooms/staff'), 'websocket: {"op":"listen","channel":"rooms/staff","ok":false,"error":"not authorized"}');
    assert.equal(await client.request('unlisten: news'), 'websocket: {"op":"unlisten","channel":"news","ok":true}');
    assert.equal(await client.request('unlisten: news'), 'websocket: {"op":"unlisten","channel":"news","ok":false,"error":"not listening"}');
    // Nothing else came: the next frame is the echo.
    assert.equal(await client.request('echo: done'), 'echo: done');
    await client.close();
  });

  test("a channel's first frame comes before the answer, so the answer is the last word on the listen", async () => {
    const client = await TestClient.connect(running.url(), { protocols: ACKNOWLEDGED });
    assert.equal(await client.request('listen: rooms/lobby'), 'joined: lobby');
    assert.equal(await client.next(), 'websocket: {"op":"listen","channel":"rooms/lobby","ok":true}');
    assert.equal(await client.request('push: rooms/lobby'), 'pushed: rooms/lobby');
    await client.close();
  });

  test('a listen whose first frame fails gets one failed answer and leaves no subscription', async () => {
    const client = await TestClient.connect(running.url(), { protocols: ACKNOWLEDGED });
    assert.equal(await client.request('listen: broken'), 'websocket: {"op":"listen","channel":"broken","ok":false,"error":"internal server error"}');
    client.send('push: broken');
    assert.equal(await client.request('echo: after'), 'echo: after');
    assert.equal(await client.request('listen: broken'), 'websocket: {"op":"listen","channel":"broken","ok":false,"error":"internal server error"}');
    await client.close();
  });

  test('an answer names at most 255 bytes of the channel the client sent', async () => {
    const client = await TestClient.connect(running.url(), { protocols: ACKNOWLEDGED });
    const named = async (frame: string | Buffer, binary = false) => {
      client.send(frame, binary);
      const answer = await client.next();
      return JSON.parse(answer.slice('websocket: '.length)) as { channel: string; error: string };
    };
    assert.equal((await named(`listen: ${'a'.repeat(255)}`)).channel, 'a'.repeat(255), 'a name that can exist is named whole');
    assert.equal((await named(`listen: ${'a'.repeat(300)}`)).channel, `${'a'.repeat(255)}…`);
    assert.equal((await named(`unlisten: ${'é'.repeat(200)}`)).channel, `${'é'.repeat(127)}…`, 'cut at a character boundary');
    client.send(Buffer.concat([Buffer.from('listen: '), Buffer.alloc(64 * 1024 - 16, 0)]), true);
    const { bytes } = await client.nextFrame();
    assert.ok(bytes.length < 2000, `the answer to a 64 KiB binary listen is ${bytes.length} bytes`);
    assert.equal(await client.request('echo: done'), 'echo: done');
    await client.close();
  });

  test('failed commands and frames are answered as JSON naming what failed', async () => {
    const client = await TestClient.connect(running.url(), { protocols: ACKNOWLEDGED });
    assert.equal(await client.request('refuse: x'), 'websocket: {"op":"command","command":"refuse","ok":false,"error":"no luck"}');
    assert.equal(await client.request('boom: x'), 'websocket: {"op":"command","command":"boom","ok":false,"error":"internal server error"}');
    assert.equal(await client.request('nope: x'), 'websocket: {"op":"command","command":"nope","ok":false,"error":"command not supported by server"}');
    assert.equal(await client.request('no separator'), 'websocket: {"op":"frame","ok":false,"error":"command not supported by server"}');
    assert.equal(await client.request(': a: b'), 'websocket: {"op":"frame","ok":false,"error":"command not supported by server"}');
    await client.close();
  });
});

describe('original mode (cmd.fossores.de, or no subprotocol) is unchanged', LIMIT, () => {
  for (const protocols of [LEGACY, []]) {
    test(`offered ${JSON.stringify(protocols)}: success is silent, failures are the bare texts`, async () => {
      const client = await TestClient.connect(running.url(), { protocols });
      client.send('listen: news');
      assert.equal(await client.request('echo: listened'), 'echo: listened');
      assert.equal(await client.request('listen: news'), 'websocket: already listening');
      assert.equal(await client.request('listen: nowhere'), 'websocket: channel does not exist');
      assert.equal(await client.request('listen: rooms/staff'), 'websocket: not authorized');
      assert.equal(await client.request('listen: rooms/lobby'), 'joined: lobby');
      client.send('unlisten: news');
      assert.equal(await client.request('unlisten: news'), 'websocket: not listening');
      assert.equal(await client.request('refuse: x'), 'websocket: no luck');
      assert.equal(await client.request('boom: x'), 'websocket: internal server error');
      assert.equal(await client.request('nope: x'), 'websocket: command not supported by server');
      assert.equal(await client.request('no separator'), 'websocket: command not supported by server');
      assert.equal(await client.request('listen: broken'), 'websocket: internal server error');
      client.send('push: broken');
      assert.equal(await client.request('echo: done'), 'echo: done');
      await client.close();
    });
  }
});

test('a Nest gateway served by EasyWsAdapter answers an unknown command in the mode the client chose', LIMIT, async () => {
  const moduleRef = await Test.createTestingModule({ providers: [EchoGateway] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  app.useWebSocketAdapter(new EasyWsAdapter(app.getHttpServer()));
  await app.listen(0, '127.0.0.1');
  try {
    const url = `ws://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}/gateway`;
    const acknowledged = await TestClient.connect(url, { protocols: ACKNOWLEDGED });
    assert.equal(await acknowledged.request('echo: hi'), 'echo: hi');
    assert.equal(await acknowledged.request('nope: x'), 'websocket: {"op":"command","command":"nope","ok":false,"error":"command not supported by server"}');
    assert.equal(await acknowledged.request('no separator'), 'websocket: {"op":"frame","ok":false,"error":"command not supported by server"}');
    await acknowledged.close();
    const legacy = await TestClient.connect(url, { protocols: LEGACY });
    assert.equal(await legacy.request('nope: x'), 'websocket: command not supported by server');
    await legacy.close();
  } finally {
    await app.close();
  }
});
