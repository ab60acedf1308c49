import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { ConnectedSocket, MessageBody } from '@nestjs/websockets';
import { WebSocketServer } from 'ws';
import { Command, EasyWsModule, type EasyWsOptions, type EasyWsSession, Message, SessionRegistry } from 'nestjs-easy-ws';
import { startApp, type RunningApp } from '../support/app.js';
import { TestClient, UUID_V4 } from '../support/client.js';
import { tryUpgrade, upgradeRequest } from '../support/http.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { SessionTracker } from '../support/session-tracker.js';

/** Tells the client what the server knows of its session. */
@Injectable()
class Whoami {
  @Command('whoami')
  whoami(@ConnectedSocket() session: EasyWsSession) {
    return new Message('whoami', { token: session.token ?? null, data: session.data, protocol: session.protocol });
  }

  @Command('echo')
  echo(@MessageBody() data: string) {
    return new Message('echo', data);
  }
}

const FORBIDDEN = { status: 403, body: 'Authentication failed\n' };

describe('the auth cookie and the authenticator', () => {
  let running: RunningApp;
  const logger = new RecordingLogger();
  const seen: Array<{ token: string; url: string | undefined }> = [];

  before(async () => {
    running = await startApp(
      {
        imports: [
          EasyWsModule.forRoot({
            // Async, as a token lookup in a database would be.
            authenticate: async (token: string, request: IncomingMessage) => {
              seen.push({ token, url: request.url });
              await new Promise((resolve) => setImmediate(resolve));
              if (token === 'explode') {
                throw new Error('token store unreachable');
              }
              return token === 'ann-token' ? { user: 'ann', role: 'admin' } : token === 'guest';
            },
          }),
        ],
        providers: [Whoami],
      },
      { logger },
    );
  });
  after(() => running.close());

  test('a quoted cookie value is unquoted, as Go\'s net/http reads it', async () => {
    const client = await TestClient.connect(running.url(), { headers: { Cookie: 'auth="guest"' } });
    assert.equal(seen.at(-1)?.token, 'guest');
    await client.close();
  });

  test('an upgrade that no one on the server serves gets 404 instead of hanging', async () => {
    for (const path of ['/nowhere', '/WS', '/ws/']) {
      const answer = await upgradeRequest(running.port, path, { Cookie: 'auth=guest' });
      assert.equal(answer.status, 404, path);
    }
  });

  test('the `auth` cookie reaches the authenticator with the request, and the session keeps it', async () => {
    const client = await TestClient.connect(running.url('/ws?x=1'), { headers: { Cookie: 'theme=dark; auth=guest; lang=en' } });
    assert.deepEqual(seen.at(-1), { token: 'guest', url: '/ws?x=1' });
    assert.deepEqual(JSON.parse((await client.request('whoami: ')).slice('whoami: '.length)), {
      token: 'guest',
      data: {},
      protocol: '',
    });
    await client.close();
  });

  test('the object the authenticator returns starts the session data', async () => {
    const client = await TestClient.connect(running.url(), { headers: { Cookie: 'auth=ann-token' } });
    const { data } = JSON.parse((await client.request('whoami: ')).slice('whoami: '.length));
    assert.deepEqual(data, { user: 'ann', role: 'admin' });
    await client.close();
  });

  test('a rejected token gets 403 "Authentication failed\\n" and no upgrade', async () => {
    const answer = await upgradeRequest(running.port, '/ws', { Cookie: 'auth=wrong' });
    assert.deepEqual({ status: answer.status, body: answer.body }, FORBIDDEN);
    assert.equal(answer.headers.upgrade, undefined);
    assert.equal(running.app.get(SessionRegistry).sessionCount, 0);
  });

  test('a missing token gets 403 without asking the authenticator', async () => {
    const before = seen.length;
    const answer = await upgradeRequest(running.port, '/ws', { Cookie: 'other=1' });
    assert.deepEqual({ status: answer.status, body: answer.body }, FORBIDDEN);
    assert.equal(seen.length, before);
  });

  test('an authenticator that throws refuses the client with 403 and logs why', async () => {
    const answer = await upgradeRequest(running.port, '/ws', { Cookie: 'auth=explode' });
    assert.deepEqual({ status: answer.status, body: answer.body }, FORBIDDEN);
    assert.equal(logger.find('error', 'token store unreachable').length, 1);
  });

  test('a WebSocket client sees the refusal as an unexpected 403 response', async () => {
    await assert.rejects(TestClient.connect(running.url(), { headers: { Cookie: 'auth=wrong' } }), /Unexpected server response: 403/);
  });
});

describe('where the token comes from', () => {
  const sources: Array<{ name: string; options: EasyWsOptions; connect: (url: string) => [string, Record<string, string>] }> = [
    {
      name: 'a header',
      options: { token: { header: 'X-Token' } },
      connect: (url) => [url, { 'x-token': 'secret' }],
    },
    {
      name: 'a query parameter',
      options: { token: { query: 't' } },
      connect: (url) => [`${url}?t=secret`, {}],
    },
    {
      name: 'a custom function',
      options: { token: (request) => request.headers.authorization?.replace(/^Bearer /, '') },
      connect: (url) => [url, { Authorization: 'Bearer secret' }],
    },
  ];
  for (const source of sources) {
    test(`the token can come from ${source.name}; the cookie is then ignored`, async () => {
      const running = await startApp({
        imports: [EasyWsModule.forRoot({ ...source.options, path: '/socket', authenticate: (token) => token === 'secret' })],
        providers: [Whoami],
      });
      try {
        const [url, headers] = source.connect(running.url('/socket'));
        const client = await TestClient.connect(url, { headers });
        assert.equal(JSON.parse((await client.request('whoami: ')).slice('whoami: '.length)).token, 'secret');
        await client.close();
        const refused = await upgradeRequest(running.port, '/socket', { Cookie: 'auth=secret' });
        assert.deepEqual({ status: refused.status, body: refused.body }, FORBIDDEN);
      } finally {
        await running.close();
      }
    });
  }
});

describe('subprotocols, session ids, other upgrades, origins, frame size', () => {
  let running: RunningApp;
  let other: WebSocketServer;

  before(async () => {
    running = await startApp({
      imports: [EasyWsModule.forRoot({ allowedOrigins: ['https://app.example'], maxPayload: 1024 })],
      providers: [Whoami, SessionTracker],
    });
    // Another upgrade consumer on the same HTTP server, as a second library would add.
    other = new WebSocketServer({ noServer: true });
    other.on('connection', (socket) => socket.on('message', (data) => socket.send(`other got ${data}`)));
    running.app.getHttpServer().on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (request.url === '/other') {
        other.handleUpgrade(request, socket, head, (webSocket) => other.emit('connection', webSocket, request));
      }
    });
  });
  after(async () => {
    other.close();
    await running.close();
  });

  test('a client that offers cmd.fossores.de gets it back in Sec-WebSocket-Protocol', async () => {
    const answer = await upgradeRequest(running.port, '/ws', { 'Sec-WebSocket-Protocol': 'cmd.fossores.de' });
    assert.equal(answer.status, 101);
    assert.equal(answer.headers['sec-websocket-protocol'], 'cmd.fossores.de');
    const client = await TestClient.connect(running.url(), { protocols: ['cmd.fossores.de'] });
    assert.equal(client.protocol, 'cmd.fossores.de');
    await client.close();
  });

  test('a client that offers no subprotocol is accepted without one', async () => {
    const answer = await upgradeRequest(running.port, '/ws');
    assert.equal(answer.status, 101);
    assert.equal(answer.headers['sec-websocket-protocol'], undefined);
  });

  test('easy-ws.v1 is preferred wherever it is offered', async () => {
    for (const offered of [['cmd.fossores.de', 'easy-ws.v1'], ['easy-ws.v1', 'cmd.fossores.de'], ['easy-ws.v1']]) {
      const client = await TestClient.connect(running.url(), { protocols: offered });
      assert.equal(client.protocol, 'easy-ws.v1', `offered ${offered.join(', ')}`);
      await client.close();
    }
  });

  test('every session gets its own UUID v4, in canonical lower-case form', async () => {
    const clients = await Promise.all(Array.from({ length: 20 }, () => TestClient.connect(running.url())));
    const ids = await Promise.all(clients.map((client) => client.sessionId()));
    for (const id of ids) {
      assert.match(id, UUID_V4);
    }
    assert.equal(new Set(ids).size, ids.length);
    await Promise.all(clients.map((client) => client.close()));
  });

  test('an upgrade on another path is left to the other listener', async () => {
    const elsewhere = await TestClient.connect(running.url('/other'));
    const ours = await TestClient.connect(running.url());
    assert.equal(await elsewhere.request('hello'), 'other got hello');
    assert.match(await ours.next(), /^welcome: Hello /);
    assert.equal(await ours.request('echo: still here'), 'echo: still here');
    await Promise.all([elsewhere.close(), ours.close()]);
  });

  test('a foreign Origin gets 403 before any upgrade; an allowed one and none are accepted', async () => {
    const foreign = await upgradeRequest(running.port, '/ws', { Origin: 'https://evil.example' });
    assert.equal(foreign.status, 403);
    for (const headers of [{ Origin: 'https://app.example' }, {} as Record<string, string>]) {
      const client = await TestClient.connect(running.url(), { headers });
      assert.match(await client.next(), /^welcome: Hello /);
      await client.close();
    }
  });

  test('an OriginCheck function decides with the request at hand', async () => {
    const sameOrigin = await startApp({
      imports: [
        EasyWsModule.forRoot({ allowedOrigins: (origin, request) => new URL(origin).host === request.headers.host }),
      ],
      providers: [Whoami],
    });
    try {
      const foreign = await upgradeRequest(sameOrigin.port, '/ws', { Origin: 'https://evil.example' });
      assert.equal(foreign.status, 403);
      const own = await TestClient.connect(sameOrigin.url(), { headers: { Origin: `http://127.0.0.1:${sameOrigin.port}` } });
      assert.equal(await own.request('echo: same origin'), 'echo: same origin');
      await own.close();
    } finally {
      await sameOrigin.close();
    }
  });

  test('a frame above maxPayload closes that connection with 1009; the server carries on', async () => {
    const bystander = await TestClient.connect(running.url());
    const offender = await TestClient.connect(running.url());
    const [bystanderId, offenderId] = await Promise.all([bystander.sessionId(), offender.sessionId()]);
    const tracker = running.app.get(SessionTracker);
    offender.send(`echo: ${'x'.repeat(1024)}`);
    assert.equal((await offender.closed).code, 1009);
    await tracker.whenClosed(offenderId);
    assert.equal(await bystander.request('echo: fine'), 'echo: fine');
    const newcomer = await TestClient.connect(running.url());
    await newcomer.sessionId();
    assert.equal(await newcomer.request(`echo: ${'y'.repeat(1000)}`), `echo: ${'y'.repeat(1000)}`);
    await Promise.all([bystander.close(), newcomer.close()]);
    await tracker.whenClosed(bystanderId);
  });
});

describe('origins and authenticators that fail, and crowds of handshakes', () => {
  test('a version 8 client\'s Sec-WebSocket-Origin is checked like Origin', async () => {
    const running = await startApp({ imports: [EasyWsModule.forRoot({ allowedOrigins: ['https://app.example'] })], providers: [Whoami] });
    try {
      const version8 = (origin: string) => tryUpgrade(running.port, { 'Sec-WebSocket-Version': '8', 'Sec-WebSocket-Origin': origin });
      assert.deepEqual(await version8('https://evil.example'), { status: 403, body: 'Origin not allowed\n' });
      assert.equal((await version8('https://app.example')).status, 101);
    } finally {
      await running.close();
    }
  });

  test('an allowedOrigins function that throws refuses with 403 "Origin not allowed", logged once however often', async () => {
    const logger = new RecordingLogger();
    const running = await startApp(
      { imports: [EasyWsModule.forRoot({ allowedOrigins: (origin) => new URL(origin).hostname === 'app.example' })], providers: [Whoami] },
      { logger },
    );
    try {
      for (let request = 0; request < 50; request++) {
        assert.deepEqual(await tryUpgrade(running.port, { Origin: `not a url ${request}` }), { status: 403, body: 'Origin not allowed\n' });
      }
      assert.equal((await tryUpgrade(running.port, { Origin: 'https://app.example' })).status, 101);
      const errors = logger.at('error');
      assert.equal(errors.length, 1, errors.join('\n'));
      assert.match(errors[0], /^allowedOrigins threw, so the handshake was refused with 403 Origin not allowed: Invalid URL$/);
      assert.match(logger.find('error', 'allowedOrigins threw')[0].text, /TypeError.*Invalid URL\n\s+at /s, 'the first is logged with its stack');
    } finally {
      await running.close();
    }
  });

  test('handshakes waiting for the authenticator are bounded by maxPendingHandshakes; the refusals are logged once, not each', { timeout: 20_000 }, async () => {
    const logger = new RecordingLogger();
    const hanging = new Set<() => void>();
    const running = await startApp(
      {
        imports: [
          EasyWsModule.forRoot({
            authenticate: (token) => (token === 'good' ? true : new Promise<boolean>((resolve) => hanging.add(() => resolve(false)))),
            handshakeTimeout: 1000,
            maxPendingHandshakes: 20,
          }),
        ],
        providers: [Whoami],
      },
      { logger },
    );
    try {
      const answers = await Promise.all(Array.from({ length: 200 }, () => tryUpgrade(running.port, { Cookie: 'auth=hang' })));
      const count = (body: string) => answers.filter((answer) => answer.status === 503 && answer.body === body).length;
      assert.deepEqual({ timedOut: count('Authentication timed out\n'), refused: count('Too many connections\n') }, { timedOut: 20, refused: 180 });
      assert.equal(hanging.size, 20, 'the authenticator was asked for 20 handshakes only');
      assert.equal((await tryUpgrade(running.port, { Cookie: 'auth=good' })).status, 101, 'once they are gone, handshakes go on');
      assert.deepEqual(logger.at('warn').filter((line) => !line.includes('Cross-Site WebSocket Hijacking')), [
        '20 handshakes are waiting for authenticate (maxPendingHandshakes); refusing more with 503',
        'authenticate did not answer within 1000 ms; the handshake was refused',
      ]);
    } finally {
      hanging.forEach((answer) => answer());
      await running.close();
    }
  });
});
