import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection } from 'node:net';
import { once } from 'node:events';
import { Injectable } from '@nestjs/common';
import { MessageBody } from '@nestjs/websockets';
import { Command, EasyWsModule, Message } from 'nestjs-easy-ws';
import { startApp, type RunningApp } from './support/app.js';
import { TestClient } from './support/client.js';

@Injectable()
class Echo {
  @Command('echo')
  echo(@MessageBody() data: string) {
    return new Message('echo', data);
  }
}

let running: RunningApp;
before(async () => {
  running = await startApp({ imports: [EasyWsModule.forRoot({ maxPayload: 1024 })], providers: [Echo] });
});
after(() => running.close());

async function assertServerStillAnswers() {
  const client = await TestClient.connect(running.url());
  assert.equal(await client.request('echo: still here'), 'echo: still here');
  await client.close();
}

test('a frame over maxPayload closes that connection with 1009, and the server carries on', async () => {
  const client = await TestClient.connect(running.url());
  assert.equal(await client.request(`echo: ${'x'.repeat(1018)}`), `echo: ${'x'.repeat(1018)}`); // exactly 1024 bytes
  client.send(`echo: ${'x'.repeat(1019)}`);
  assert.equal((await client.closed).code, 1009);
  await assertServerStillAnswers();
});

test('a text frame that is not UTF-8 closes that connection with 1007, and the server carries on', async () => {
  // A browser or ws client cannot send one, so this client speaks raw RFC 6455.
  const socket = createConnection({ host: '127.0.0.1', port: running.port });
  await once(socket, 'connect');
  socket.write(
    'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  const [handshake] = (await once(socket, 'data')) as [Buffer];
  assert.match(handshake.toString(), /^HTTP\/1\.1 101 /);
  const payload = Buffer.from([0x65, 0x3a, 0x20, 0xff]); // "e: " and a byte UTF-8 never has
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = payload.map((byte, index) => byte ^ mask[index % 4]);
  socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
  const [closeFrame] = (await once(socket, 'data')) as [Buffer];
  assert.equal(closeFrame[0], 0x88); // a close frame
  assert.equal(closeFrame.readUInt16BE(2), 1007);
  socket.destroy();
  await assertServerStillAnswers();
});
