import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { type INestApplication, Injectable, type LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { WsException } from '@nestjs/websockets';
import { Command, EasyWsModule } from 'nestjs-easy-ws';
import { TestClient } from './support/client.js';

@Injectable()
class Failing {
  @Command('refuse')
  refuse() {
    throw new WsException('not today');
  }

  @Command('crash')
  crash() {
    throw new Error('disk on fire');
  }
}

/** Keeps what the application logs as errors, as one text per call. */
class ErrorLog implements LoggerService {
  readonly errors: string[] = [];
  error(...parts: unknown[]) {
    this.errors.push(parts.map((part) => (part instanceof Error ? part.stack : String(part))).join('\n'));
  }
  log() {}
  warn() {}
}

const errorLog = new ErrorLog();
let app: INestApplication;
let url: string;
before(async () => {
  const moduleRef = await Test.createTestingModule({ imports: [EasyWsModule.forRoot()], providers: [Failing] }).compile();
  app = moduleRef.createNestApplication({ logger: errorLog });
  await app.listen(0, '127.0.0.1');
  url = `ws://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}/ws`;
});
after(() => app.close());

test('a WsException is the client\'s answer, not a server error: nothing is logged', async () => {
  const client = await TestClient.connect(url);
  assert.equal(await client.request('refuse: '), 'websocket: not today');
  await client.close();
  assert.deepEqual(errorLog.errors.filter((entry) => entry.includes('not today')), []);
});

test('an unexpected error is logged once, with its stack, and the client only hears that it failed', async () => {
  const client = await TestClient.connect(url);
  assert.equal(await client.request('crash: '), 'websocket: internal server error');
  await client.close();
  const logged = errorLog.errors.filter((entry) => entry.includes('disk on fire'));
  assert.equal(logged.length, 1);
  assert.match(logged[0], /Failing\.crash failed: disk on fire[\s\S]*\n\s+at Failing\.crash/);
});
