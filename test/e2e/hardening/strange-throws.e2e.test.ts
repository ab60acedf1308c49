import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type CanActivate, Catch, type ExceptionFilter, HttpException, Injectable, UseFilters, UseGuards } from '@nestjs/common';
import { ConnectedSocket, MessageBody } from '@nestjs/websockets';
import { ACKNOWLEDGED_SUBPROTOCOL, Command, EasyWsModule, type EasyWsSession, ListenChannel, OnOpen } from 'nestjs-easy-ws';
import { startApp, type RunningApp } from '../../support/app.js';
import { TestClient } from '../../support/client.js';
import { RecordingLogger } from '../../support/recording-logger.js';

/** An error whose `message` getter throws. */
class GetterError extends Error {
  override get message(): string {
    throw new Error('the message getter broke');
  }
}

/** A Proxy whose every trap throws, even the one `instanceof` asks. */
function trapsThatThrow(): object {
  const fail = (): never => {
    throw new Error('a trap broke');
  };
  return new Proxy({ kind: 'proxied' }, { get: fail, getPrototypeOf: fail, ownKeys: fail, getOwnPropertyDescriptor: fail, has: fail });
}

const cyclic: Record<string, unknown> = { kind: 'cyclic' };
cyclic.self = cyclic;

/** What each command throws, and what its log line must show of it. */
const THROWN: Record<string, { value: () => unknown; logged: RegExp }> = {
  'null-prototype': { value: () => Object.assign(Object.create(null), { kind: 'bare' }), logged: /null prototype.*bare/ },
  'message-getter': { value: () => new GetterError('made before the getter'), logged: /GetterError/ },
  proxy: { value: trapsThatThrow, logged: /proxied/ },
  symbol: { value: () => Symbol('thrown'), logged: /Symbol\(thrown\)/ },
  cyclic: { value: () => cyclic, logged: /Circular/ },
  nothing: { value: () => undefined, logged: /failed: undefined/ },
};

/** Catches only HttpExceptions: choosing it asks `instanceof` of whatever was thrown. */
@Catch(HttpException)
class HttpOnly implements ExceptionFilter {
  catch(): void {}
}

/** Asks nothing: a guard that throws what the channel's name says. */
@Injectable()
class ThrowingGuard implements CanActivate {
  canActivate(): boolean {
    throw THROWN['message-getter'].value();
  }
}

@Injectable()
class Throwers {
  @OnOpen()
  open(@ConnectedSocket() session: EasyWsSession) {
    const kind = session.headers['x-throw'];
    if (typeof kind === 'string') {
      throw THROWN[kind].value();
    }
  }

  @Command('throw')
  throw(@MessageBody() kind: string) {
    throw THROWN[kind].value();
  }

  /** The same through Nest's pipeline, with a filter whose choice asks `instanceof`. */
  @Command('filtered')
  @UseFilters(HttpOnly)
  async filtered(@MessageBody() kind: string) {
    await Promise.resolve();
    throw THROWN[kind].value();
  }

  @ListenChannel('guarded')
  @UseGuards(ThrowingGuard)
  guarded() {}
}

describe('a handler that throws a value the usual ways of reading an error choke on', { timeout: 30_000 }, () => {
  const logs = new RecordingLogger();
  let running: RunningApp;
  before(async () => {
    running = await startApp({ imports: [EasyWsModule.forRoot()], providers: [Throwers, ThrowingGuard] }, { logger: logs });
  });
  after(() => running.close());

  for (const [mode, protocols] of [['the original protocol', []], ['acknowledged mode', [ACKNOWLEDGED_SUBPROTOCOL]]] as const) {
    test(`is answered with "internal server error", in ${mode}, and logged as what it was`, async () => {
      const client = await TestClient.connect(running.url(), { protocols: [...protocols] });
      for (const command of ['throw', 'filtered']) {
        for (const [kind, { logged }] of Object.entries(THROWN)) {
          const since = logs.entries.length;
          const answer = await client.request(`${command}: ${kind}`);
          if (protocols.length === 0) {
            assert.equal(answer, 'websocket: internal server error', `${command} ${kind}`);
          } else {
            assert.equal(answer, `websocket: {"op":"command","command":"${command}","ok":false,"error":"internal server error"}`, `${command} ${kind}`);
          }
          const errors = logs.errorsSince(since);
          assert.equal(errors.length, 1, `one line for ${command} ${kind}: ${errors.join('\n---\n')}`);
          assert.match(errors[0].replace(/\n/g, ' '), logged, `${command} ${kind}`);
          assert.match(errors[0], new RegExp(`^Throwers\\.${command} failed: `));
          assert.doesNotMatch(errors[0], /Cannot convert object to primitive value/);
        }
      }
      await client.close();
    });
  }

  test('a guard that throws one refuses the listen with "not authorized" and is logged', async () => {
    const client = await TestClient.connect(running.url(), { protocols: [ACKNOWLEDGED_SUBPROTOCOL] });
    const since = logs.entries.length;
    assert.equal(await client.request('listen: guarded'), 'websocket: {"op":"listen","channel":"guarded","ok":false,"error":"not authorized"}');
    const errors = logs.errorsSince(since);
    assert.equal(errors.length, 1);
    assert.match(errors[0], /^Throwers\.guarded failed, so the listen was refused\n.*GetterError/s);
    await client.close();
  });

  test('an open hook that throws one closes the session with 1011 after the notice', async () => {
    for (const kind of Object.keys(THROWN)) {
      const since = logs.entries.length;
      const client = await TestClient.connect(running.url(), { headers: { 'x-throw': kind } });
      assert.equal(await client.next(), 'websocket: internal server error', kind);
      assert.deepEqual(await client.closed, { code: 1011, reason: 'internal server error' }, kind);
      assert.match(logs.errorsSince(since).join('\n').replace(/\n/g, ' '), THROWN[kind].logged, kind);
    }
  });
});
