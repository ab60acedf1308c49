import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { connect as connectTcp } from 'node:net';
import { Injectable } from '@nestjs/common';
import { throwError, concat, of } from 'rxjs';
import { Command, EasyWsModule, Message } from 'nestjs-easy-ws';
import { startApp, type RunningApp } from '../../support/app.js';
import { TestClient } from '../../support/client.js';
import { rawExchange, tryUpgrade, upgradeRequestText } from '../../support/http.js';
import { RecordingLogger } from '../../support/recording-logger.js';
import { connectWelcomed, startScenarioApp } from '../../support/scenario-handlers.js';

/** Connects with a token and reads the welcome frame; proves the server still accepts and serves. */
async function servedWith(running: RunningApp, headers: Record<string, string> = {}): Promise<void> {
  const client = await connectWelcomed(running.url(), { headers });
  assert.equal(await client.request('echo: ok'), 'echo: ok');
  await client.close();
}

describe('handshakes that cannot be read never throw and leave nothing behind', { timeout: 20_000 }, () => {
  const logs = new RecordingLogger();
  let running: RunningApp;
  before(async () => {
    running = await startScenarioApp({ authenticate: (token) => token === 'good', maxConnections: 1 }, logs);
  });
  after(() => running.close());

  test('malformed cookies and bad percent-encoding are a wrong token: 403', async () => {
    for (const cookie of ['auth=%E0%A4%A', 'auth=%', 'auth', '=good', ';;;=;', 'auth=go%6Fd%', 'auth="good', `auth=${'%'.repeat(5000)}`]) {
      assert.deepEqual(await tryUpgrade(running.port, { Cookie: cookie }), { status: 403, body: 'Authentication failed\n' }, cookie);
    }
    assert.equal((await tryUpgrade(running.port, { Cookie: 'x=1; auth=go%6Fd; y' })).status, 101, 'a percent-encoded token is decoded');
  });

  test('requests ws itself refuses (no key, unknown version) get 4xx and give their connection place back', async () => {
    const noKey = await rawExchange(running.port, upgradeRequestText('/ws', 'Cookie: auth=good').replace(/Sec-WebSocket-Key: .*\r\n/, ''));
    assert.match(noKey, /^HTTP\/1.1 400 /);
    const badVersion = await rawExchange(running.port, upgradeRequestText('/ws', 'Cookie: auth=good').replace('Version: 13', 'Version: 99'));
    assert.match(badVersion, /^HTTP\/1.1 (400|426) /);
    await servedWith(running, { Cookie: 'auth=good' }); // maxConnections is 1: nothing leaked
  });

  test('a client that resets its connection while the authenticator runs leaves no session and no connection place', async () => {
    let requestSeen!: (request: IncomingMessage) => void;
    const seen = new Promise<IncomingMessage>((resolve) => (requestSeen = resolve));
    let answer!: (verdict: boolean) => void;
    const verdict = new Promise<boolean>((resolve) => (answer = resolve));
    const slow = await startScenarioApp({
      authenticate: (_token, request) => {
        requestSeen(request);
        return verdict;
      },
      maxConnections: 1,
    });
    try {
      const socket = connectTcp(slow.port, '127.0.0.1', () => socket.write(upgradeRequestText('/ws', 'Cookie: auth=x')));
      const request = await seen;
      const serverSideClosed = new Promise((resolve) => request.socket.once('close', resolve));
      socket.resetAndDestroy();
      await serverSideClosed;
      answer(true); // the authenticator says yes, to a client that is gone
      await servedWith(slow, { Cookie: 'auth=x' });
      assert.equal(slow.handlers.closed, 1, 'only the session just served opened and closed');
    } finally {
      await slow.close();
    }
  });

  test('none of this logged an error: a client cannot flood the log', () => {
    assert.deepEqual(logs.entries.filter((line) => line.level === 'error'), []);
  });
});

describe('application code that fails in the handshake', { timeout: 20_000 }, () => {
  test('an authenticator that throws or rejects refuses with 403 and logs the error; the server serves on', async () => {
    const logs = new RecordingLogger();
    const running = await startScenarioApp(
      {
        authenticate: (token) => {
          if (token === 'throw') {
            throw new Error('verifier crashed');
          }
          return token === 'reject' ? Promise.reject(new Error('database down')) : token === 'good';
        },
      },
      logs,
    );
    try {
      for (const token of ['throw', 'reject']) {
        assert.deepEqual(await tryUpgrade(running.port, { Cookie: `auth=${token}` }), { status: 403, body: 'Authentication failed\n' });
      }
      assert.equal(logs.matching('error', /A WebSocket handshake failed/).length, 2);
      await servedWith(running, { Cookie: 'auth=good' });
    } finally {
      await running.close();
    }
  });

  test('a token extractor that throws refuses with 403', async () => {
    const running = await startScenarioApp({
      token: (request) => {
        if (request.headers['x-boom']) {
          throw new TypeError('cannot read token');
        }
        return 'anyone';
      },
      authenticate: () => true,
    });
    try {
      assert.equal((await tryUpgrade(running.port, { 'x-boom': '1' })).status, 403);
      await servedWith(running);
    } finally {
      await running.close();
    }
  });

  test('an authenticator that never answers is cut off after handshakeTimeout with 503', async () => {
    const logs = new RecordingLogger();
    const running = await startScenarioApp({ authenticate: (token) => (token === 'good' ? true : new Promise(() => undefined)), handshakeTimeout: 100 }, logs);
    try {
      assert.deepEqual(await tryUpgrade(running.port, { Cookie: 'auth=hang' }), { status: 503, body: 'Authentication timed out\n' });
      assert.equal(logs.matching('warn', /authenticate did not answer within 100 ms/).length, 1);
      await servedWith(running, { Cookie: 'auth=good' });
    } finally {
      await running.close();
    }
  });

  test('a query-parameter token survives bad percent-encoding and odd request targets', async () => {
    const running = await startScenarioApp({ token: { query: 't' }, authenticate: (token) => token === 'good' });
    try {
      for (const target of ['/ws?t=%E0%A4%A', '/ws?t=%', '/ws?&&&=&t', '/ws??t=good', '/ws?t=good%']) {
        const answer = await rawExchange(running.port, upgradeRequestText(target));
        assert.match(answer, /^HTTP\/1.1 403 /, target);
      }
      assert.equal((await tryUpgrade(running.port, {}, '/ws?x=1&t=go%6Fd')).status, 101);
    } finally {
      await running.close();
    }
  });
});

@Injectable()
class Failing {
  @Command('reject')
  async reject() {
    await Promise.resolve();
    throw new Error('async work failed');
  }

  @Command('throw-string')
  throwString() {
    throw 'not even an Error';
  }

  @Command('stream')
  stream() {
    return concat(of(new Message('stream', 'first')), throwError(() => new Error('stream failed')));
  }

  @Command('bad-reply')
  badReply() {
    return { not: 'a message' };
  }

  @Command('ok')
  ok() {
    return new Message('ok');
  }
}

describe('handlers that fail, synchronously or in their async work', { timeout: 20_000 }, () => {
  test('each failure is the notice "internal server error" for its frame; the session goes on', async () => {
    const running = await startApp({ imports: [EasyWsModule.forRoot()], providers: [Failing] });
    try {
      const client = await TestClient.connect(running.url());
      for (const command of ['reject', 'throw-string', 'bad-reply']) {
        assert.equal(await client.request(`${command}: x`), 'websocket: internal server error', command);
      }
      assert.equal(await client.request('stream: x'), 'stream: first');
      assert.equal(await client.next(), 'websocket: internal server error');
      assert.equal(await client.request('ok: x'), 'ok: ');
      await client.close();
    } finally {
      await running.close();
    }
  });
});
