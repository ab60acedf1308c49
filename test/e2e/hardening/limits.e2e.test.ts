import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as connectTcp } from 'node:net';
import { Injectable } from '@nestjs/common';
import { ACKNOWLEDGED_SUBPROTOCOL, EasyWsModule, type EasyWsOptions, ListenChannel, type SlowConsumerPolicy } from 'nestjs-easy-ws';
import { startApp } from '../../support/app.js';
import { TestClient } from '../../support/client.js';
import { tryUpgrade, upgradeRequestText } from '../../support/http.js';
import { RecordingLogger } from '../../support/recording-logger.js';
import { connectWelcomed, type ScenarioApp, startScenarioApp } from '../../support/scenario-handlers.js';

const connect = (running: ScenarioApp, options: Parameters<typeof TestClient.connect>[1] = {}) => connectWelcomed(running.url(), options);

describe('frames that break the WebSocket protocol close only their own connection', { timeout: 20_000 }, () => {
  let running: ScenarioApp;
  before(async () => (running = await startScenarioApp({ maxPayload: 1024 })));
  after(() => running.close());

  test('a frame over maxPayload closes with 1009; the server serves on', async () => {
    const bystander = await connect(running);
    const client = await connect(running);
    client.send(`echo: ${'x'.repeat(1024)}`);
    assert.equal((await client.closed).code, 1009);
    await running.handlers.closedAtLeast(1);
    assert.equal(await bystander.request('echo: still here'), 'echo: still here');
    const exact = `echo: ${'y'.repeat(1024 - 'echo: '.length)}`;
    assert.equal(await bystander.request(exact), exact, 'a frame of exactly maxPayload bytes is fine');
    await bystander.close();
  });

  test('a text frame that is not UTF-8 closes with 1007; the server serves on', async () => {
    const bystander = await connect(running);
    const client = await connect(running);
    client.send(Buffer.from([0x65, 0x63, 0x68, 0x6f, 0x3a, 0x20, 0xff, 0xfe]), false);
    assert.equal((await client.closed).code, 1007);
    await running.handlers.closedAtLeast(3); // the two of the test before, and this one
    assert.equal(await bystander.request('echo: still here'), 'echo: still here');
    await bystander.close();
  });
  test('an unmasked frame from a client closes with 1002; the server serves on', async () => {
    const raw = connectTcp(running.port, '127.0.0.1', () => raw.write(upgradeRequestText('/ws')));
    let received = Buffer.alloc(0);
    raw.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.includes('welcome: ')) {
        raw.write(Buffer.from([0x81, 0x05, ...Buffer.from('hello')])); // clients must mask every frame
      }
    });
    await once(raw, 'close');
    // The server's close frame: opcode 8, then the code, after the 101 response and the welcome frame.
    const close = received.subarray(received.lastIndexOf(Buffer.from([0x88])));
    assert.equal(close.readUInt16BE(2), 1002);
    await running.handlers.closedAtLeast(5); // the four of the tests before, and this one
    await connectWelcomed(running.url()).then((client) => client.close());
  });

  test('a message in more than 16,384 fragments closes with 1008 and no reason (ws\'s own limit)', async () => {
    const client = await connect(running);
    for (let fragment = 0; fragment <= 16_384; fragment++) {
      client.socket.send('', { fin: false }); // empty: maxPayload is not the limit here
    }
    assert.deepEqual(await client.closed, { code: 1008, reason: '' });
    await running.handlers.closedAtLeast(7);
  });

  test('pings sent without reading the pongs are dropped without a close frame: the client sees 1006 (ws\'s own limit)', async () => {
    const client = await connect(running);
    client.socket.on('error', () => undefined); // the dropped connection
    client.socket.pause();
    const payload = Buffer.alloc(125, 1);
    for (let ping = 0; ping < 100_000; ping++) {
      client.socket.ping(payload);
    }
    await running.handlers.closedAtLeast(8);
    client.socket.resume();
    assert.equal((await client.closed).code, 1006);
  });
});

describe('Origin allow-list', { timeout: 20_000 }, () => {
  let running: ScenarioApp;
  before(async () => (running = await startScenarioApp({ allowedOrigins: ['https://app.example.com'] })));
  after(() => running.close());

  test('another origin gets 403 and no session; an allowed origin or none (not a browser) connects', async () => {
    assert.deepEqual(await tryUpgrade(running.port, { Origin: 'https://evil.example.com' }), {
      status: 403,
      body: 'Origin not allowed\n',
    });
    assert.equal(running.handlers.sessions.size, 0);
    assert.equal((await tryUpgrade(running.port, { Origin: 'https://app.example.com' })).status, 101);
    assert.equal((await tryUpgrade(running.port)).status, 101);
  });
});

describe('cookie auth without an Origin allow-list', { timeout: 20_000 }, () => {
  const hijackingWarnings = async (options: EasyWsOptions): Promise<number> => {
    const logs = new RecordingLogger();
    const running = await startScenarioApp(options, logs);
    for (let connection = 0; connection < 3; connection++) {
      await tryUpgrade(running.port, { Cookie: 'auth=good' });
    }
    await running.close();
    return logs.matching('warn', /Cross-Site WebSocket Hijacking.*allowedOrigins/).length;
  };
  const authenticate = (token: string) => token === 'good';

  test('warns once at start-up, however many clients connect', async () => {
    assert.equal(await hijackingWarnings({ authenticate }), 1);
    assert.equal(await hijackingWarnings({ authenticate, token: { cookie: 'session' } }), 1);
  });

  test('does not warn with an allow-list, with a token that is not a cookie, or without authentication', async () => {
    assert.equal(await hijackingWarnings({ authenticate, allowedOrigins: ['https://app.example.com'] }), 0);
    assert.equal(await hijackingWarnings({ authenticate, token: { header: 'x-token' } }), 0);
    assert.equal(await hijackingWarnings({}), 0);
  });
});

describe('connection limits', { timeout: 20_000 }, () => {
  let running: ScenarioApp;
  before(async () => (running = await startScenarioApp({ maxConnections: 3, maxConnectionsPerToken: 2, token: { header: 'x-token' } })));
  after(() => running.close());

  const as = (token: string) => ({ headers: { 'x-token': token } });

  test('per token and in total, a handshake over the limit gets 503 before any upgrade; a closed connection frees its place', async () => {
    const alice1 = await connect(running, as('alice'));
    const alice2 = await connect(running, as('alice'));
    assert.deepEqual(await tryUpgrade(running.port, { 'x-token': 'alice' }), { status: 503, body: 'Too many connections\n' });
    const bob = await connect(running, as('bob'));
    assert.deepEqual(await tryUpgrade(running.port, { 'x-token': 'carol' }), { status: 503, body: 'Too many connections\n' });
    assert.deepEqual(await tryUpgrade(running.port), { status: 503, body: 'Too many connections\n' }, 'without a token too');
    assert.equal(running.handlers.sessions.size, 3);

    await alice1.close();
    await running.handlers.closedAtLeast(1);
    const alice3 = await connect(running, as('alice'));
    assert.equal(await alice3.request('echo: in'), 'echo: in');
    await Promise.all([alice2, bob, alice3].map((client) => client.close()));
    await running.handlers.closedAtLeast(4);
    // Every place was given back: three new connections fit again, two of them with one token.
    const again = await Promise.all([as('alice'), as('alice'), {}].map((options) => connect(running, options)));
    await Promise.all(again.map((client) => client.close()));
  });
});

describe('channels per session', { timeout: 20_000 }, () => {
  let running: ScenarioApp;
  before(async () => (running = await startScenarioApp({ maxChannelsPerSession: 2 })));
  after(() => running.close());

  test('one listen over the limit gets "websocket: too many channels"; an unlisten makes room', async () => {
    const client = await connect(running);
    client.send('listen: rooms/1');
    client.send('listen: rooms/2');
    assert.equal(await client.request('listen: rooms/3'), 'websocket: too many channels');
    assert.equal(await client.request('listen: rooms/1'), 'websocket: already listening', 'a channel it has is not over the limit');
    client.send('unlisten: rooms/1');
    client.send('listen: rooms/3');
    assert.equal(await client.request('echo: after'), 'echo: after', 'the listen after the unlisten was silent: it succeeded');
    await client.close();
  });

  test('in acknowledged mode the notice names the listen it answers', async () => {
    const client = await connect(running, { protocols: [ACKNOWLEDGED_SUBPROTOCOL] });
    for (const channel of ['news', 'rooms/9']) {
      assert.equal(await client.request(`listen: ${channel}`), `websocket: {"op":"listen","channel":"${channel}","ok":true}`);
    }
    assert.deepEqual(JSON.parse((await client.request('listen: chat')).slice('websocket: '.length)), {
      op: 'listen',
      channel: 'chat',
      ok: false,
      error: 'too many channels',
    });
    await client.close();
  });
});

describe('options are checked at start-up', { timeout: 20_000 }, () => {
  const cases: Array<[EasyWsOptions, RegExp]> = [
    [{ maxChannelsPerSession: 0 }, /"maxChannelsPerSession" must be a positive whole number of channels, got 0/],
    [{ maxConnections: 2.5 }, /"maxConnections" must be a positive whole number of connections, got 2.5/],
    [{ maxConnectionsPerToken: -1 }, /"maxConnectionsPerToken" must be a positive whole number/],
    [{ heartbeatInterval: -5 }, /"heartbeatInterval" must be a whole number of milliseconds \(0 turns the heartbeat off\), got -5/],
    [{ maxBufferedBytes: Number.NaN }, /"maxBufferedBytes" must be a positive whole number of bytes, got NaN/],
    [{ slowConsumer: 'block' as SlowConsumerPolicy }, /"slowConsumer" must be "close" or "drop", got "block"/],
    [{ rateLimit: { framesPerSecond: 0 } }, /"rateLimit.framesPerSecond" must be a positive number, got 0/],
    [{ rateLimit: { framesPerSecond: 5, burst: 0 } }, /"rateLimit.burst" must be a positive whole number of frames, got 0/],
    [{ shutdownTimeout: 0 }, /"shutdownTimeout" must be a positive whole number of milliseconds, got 0/],
    [{ handshakeTimeout: Infinity }, /"handshakeTimeout" must be a positive whole number of milliseconds, got Infinity/],
  ];
  for (const [options, message] of cases) {
    test(`rejects ${message.source.slice(0, message.source.indexOf(' '))}`, () => {
      assert.throws(() => EasyWsModule.forRoot(options), { name: 'TypeError', message });
    });
  }

  test('a channel with an unknown slow-consumer policy fails start-up, naming the method', async () => {
    @Injectable()
    class Prices {
      @ListenChannel('prices', { slowConsumer: 'block' as SlowConsumerPolicy })
      prices() {}
    }
    await assert.rejects(startApp({ imports: [EasyWsModule.forRoot()], providers: [Prices] }), {
      message: '@ListenChannel("prices") on Prices.prices: "slowConsumer" must be "close" or "drop", got "block"',
    });
  });
});
