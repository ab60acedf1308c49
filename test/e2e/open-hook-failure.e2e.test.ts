import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Injectable } from '@nestjs/common';
import { ConnectedSocket, WsException } from '@nestjs/websockets';
import { EasyWsModule, type EasyWsSession, Message, OnOpen } from 'nestjs-easy-ws';
import { EasyWsTestClient } from 'nestjs-easy-ws/testing';
import { startApp, type RunningApp } from '../support/app.js';

/** The open hook refuses with the message the client asks for in a header. */
@Injectable()
class Gatekeeper {
  @OnOpen()
  admit(@ConnectedSocket() session: EasyWsSession) {
    const refusal = session.headers['x-refusal'];
    if (typeof refusal === 'string') {
      throw new WsException(decodeURIComponent(refusal));
    }
    return new Message('welcome', 'in');
  }
}

let running: RunningApp;
before(async () => {
  running = await startApp({ imports: [EasyWsModule.forRoot()], providers: [Gatekeeper] });
});
after(() => running.close());

async function refusedWith(message: string) {
  const client = await EasyWsTestClient.connect(running.app, { protocols: [], headers: { 'x-refusal': encodeURIComponent(message) } });
  const notice = (await client.expectFrame()).text;
  return { notice, ...(await client.expectClose()) };
}

test('a refusal in the open hook reaches the client as a notice and closes with 1008 and the message as reason', async () => {
  assert.deepEqual(await refusedWith('come back later'), {
    notice: 'websocket: come back later',
    code: 1008,
    reason: 'come back later',
  });
});

test('a refusal longer than a close frame allows gets the whole notice and a close reason cut at a character boundary', async () => {
  const message = 'é'.repeat(100); // 200 bytes; a close reason holds at most 123
  const refused = await refusedWith(message);
  assert.equal(refused.notice, `websocket: ${message}`);
  assert.equal(refused.code, 1008);
  assert.equal(refused.reason, 'é'.repeat(61));

  const next = await EasyWsTestClient.connect(running.app, { protocols: [] });
  assert.equal((await next.expectFrame()).text, 'welcome: in');
  await next.close();
});
