import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { Test } from '@nestjs/testing';
import { EasyWsAdapter, Message } from 'nestjs-easy-ws';
import { EasyWsTestClient } from 'nestjs-easy-ws/testing';
import { startApp, type RunningApp } from '../support/app.js';
import { chatFixture } from '../support/chat-fixture.js';

/** A test that waits for what never comes fails instead of hanging. */
const LIMIT = { timeout: 20_000 };

@WebSocketGateway({ path: '/gateway' })
class EchoGateway {
  @SubscribeMessage('echo')
  echo(@MessageBody() data: string) {
    return new Message('echo', data);
  }
}

/** Sends a frame as it is and returns the text of the next frame. */
async function ask(client: EasyWsTestClient, frame: string): Promise<string> {
  client.sendFrame(frame);
  return (await client.expectFrame()).text;
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
      const client = await EasyWsTestClient.connect(running.app, { protocols: [...offered] });
      assert.equal(client.protocol, chosen);
      await client.close();
    });
  }
});

describe('acknowledged mode (easy-ws.v1)', LIMIT, () => {
  test('every listen and unlisten gets exactly one answer, naming its channel', async () => {
    const client = await EasyWsTestClient.connect(running.app, { protocols: ACKNOWLEDGED });
    assert.equal(await ask(client, 'listen: news'), 'websocket: {"op":"listen","channel":"news","ok":true}');
    assert.equal(await ask(client, 'listen: news'), 'websocket: {"op":"listen","channel":"news","ok":false,"error":"already listening"}');
    assert.equal(await ask(client, 'listen: nowhere'), 'websocket: {"op":"listen","channel":"nowhere","ok":false,"error":"channel does not exist"}');
    assert.equal(await ask(client, 'listen: rooms/staff'), 'websocket: {"op":"listen","channel":"rooms/staff","ok":false,"error":"not authorized"}');
    assert.equal(await ask(client, 'unlisten: news'), 'websocket: {"op":"unlisten","channel":"news","ok":true}');
    assert.equal(await ask(client, 'unlisten: news'), 'websocket: {"op":"unlisten","channel":"news","ok":false,"error":"not listening"}');
    // Nothing else came: the next frame is the echo.
    assert.equal(await ask(client, 'echo: done'), 'echo: done');
    await client.close();
  });

  test("a channel's first frame comes before the answer, so the answer is the last word on the listen", async () => {
    const client = await EasyWsTestClient.connect(running.app, { protocols: ACKNOWLEDGED });
    assert.equal(await ask(client, 'listen: rooms/lobby'), 'joined: lobby');
    assert.equal((await client.expectFrame()).text, 'websocket: {"op":"listen","channel":"rooms/lobby","ok":true}');
    assert.equal(await ask(client, 'push: rooms/lobby'), 'pushed: rooms/lobby');
    await client.close();
  });

  test('a listen whose first frame fails gets one failed answer and leaves no subscription', async () => {
    const client = await EasyWsTestClient.connect(running.app, { protocols: ACKNOWLEDGED });
    assert.equal(await ask(client, 'listen: broken'), 'websocket: {"op":"listen","channel":"broken","ok":false,"error":"internal server error"}');
    client.sendFrame('push: broken');
    assert.equal(await ask(client, 'echo: after'), 'echo: after');
    assert.equal(await ask(client, 'listen: broken'), 'websocket: {"op":"listen","channel":"broken","ok":false,"error":"internal server error"}');
    await client.close();
  });

  test('an answer names at most 255 bytes of the channel the client sent', async () => {
    const client = await EasyWsTestClient.connect(running.app, { protocols: ACKNOWLEDGED });
    const named = async (frame: string | Buffer) => {
      client.sendFrame(frame);
      return (await client.expectFrame()).json<{ channel: string; error: string }>();
    };
    assert.equal((await named(`listen: ${'a'.repeat(255)}`)).channel, 'a'.repeat(255), 'a name that can exist is named whole');
    assert.equal((await named(`listen: ${'a'.repeat(300)}`)).channel, `${'a'.repeat(255)}…`);
    assert.equal((await named(`unlisten: ${'é'.repeat(200)}`)).channel, `${'é'.repeat(127)}…`, 'cut at a character boundary');
    client.sendFrame(Buffer.concat([Buffer.from('listen: '), Buffer.alloc(64 * 1024 - 16, 0)]));
    const { bytes } = await client.expectFrame();
    assert.ok(bytes.length < 2000, `the answer to a 64 KiB binary listen is ${bytes.length} bytes`);
    assert.equal(await ask(client, 'echo: done'), 'echo: done');
    await client.close();
  });

  test('failed commands and frames are answered as JSON naming what failed', async () => {
    const client = await EasyWsTestClient.connect(running.app, { protocols: ACKNOWLEDGED });
    assert.equal(await ask(client, 'refuse: x'), 'websocket: {"op":"command","command":"refuse","ok":false,"error":"no luck"}');
    assert.equal(await ask(client, 'boom: x'), 'websocket: {"op":"command","command":"boom","ok":false,"error":"internal server error"}');
    assert.equal(await ask(client, 'nope: x'), 'websocket: {"op":"command","command":"nope","ok":false,"error":"command not supported by server"}');
    assert.equal(await ask(client, 'no separator'), 'websocket: {"op":"frame","ok":false,"error":"command not supported by server"}');
    assert.equal(await ask(client, ': a: b'), 'websocket: {"op":"frame","ok":false,"error":"command not supported by server"}');
    await client.close();
  });
});

describe('original mode (cmd.fossores.de, or no subprotocol) is unchanged', LIMIT, () => {
  for (const protocols of [LEGACY, []]) {
    test(`offered ${JSON.stringify(protocols)}: success is silent, failures are the bare texts`, async () => {
      const client = await EasyWsTestClient.connect(running.app, { protocols });
      client.sendFrame('listen: news');
      assert.equal(await ask(client, 'echo: listened'), 'echo: listened');
      assert.equal(await ask(client, 'listen: news'), 'websocket: already listening');
      assert.equal(await ask(client, 'listen: nowhere'), 'websocket: channel does not exist');
      assert.equal(await ask(client, 'listen: rooms/staff'), 'websocket: not authorized');
      assert.equal(await ask(client, 'listen: rooms/lobby'), 'joined: lobby');
      client.sendFrame('unlisten: news');
      assert.equal(await ask(client, 'unlisten: news'), 'websocket: not listening');
      assert.equal(await ask(client, 'refuse: x'), 'websocket: no luck');
      assert.equal(await ask(client, 'boom: x'), 'websocket: internal server error');
      assert.equal(await ask(client, 'nope: x'), 'websocket: command not supported by server');
      assert.equal(await ask(client, 'no separator'), 'websocket: command not supported by server');
      assert.equal(await ask(client, 'listen: broken'), 'websocket: internal server error');
      client.sendFrame('push: broken');
      assert.equal(await ask(client, 'echo: done'), 'echo: done');
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
    const acknowledged = await EasyWsTestClient.connect(app, { path: '/gateway', protocols: ACKNOWLEDGED });
    assert.equal(await ask(acknowledged, 'echo: hi'), 'echo: hi');
    assert.equal(await ask(acknowledged, 'nope: x'), 'websocket: {"op":"command","command":"nope","ok":false,"error":"command not supported by server"}');
    assert.equal(await ask(acknowledged, 'no separator'), 'websocket: {"op":"frame","ok":false,"error":"command not supported by server"}');
    await acknowledged.close();
    const legacy = await EasyWsTestClient.connect(app, { path: '/gateway', protocols: LEGACY });
    assert.equal(await ask(legacy, 'nope: x'), 'websocket: command not supported by server');
    await legacy.close();
  } finally {
    await app.close();
  }
});
