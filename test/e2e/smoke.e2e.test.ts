import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Injectable } from '@nestjs/common';
import { ConnectedSocket, MessageBody } from '@nestjs/websockets';
import { Command, EasyWsModule, type EasyWsSession, ListenChannel, Message, OnOpen, PushService } from 'nestjs-easy-ws';
import { startApp, type RunningApp } from '../support/app.js';
import { TestClient } from '../support/client.js';

@Injectable()
class Chat {
  constructor(private readonly push: PushService) {}
  @OnOpen()
  hello(@ConnectedSocket() session: EasyWsSession) {
    return new Message('welcome', `Hello ${session.id}`);
  }
  @Command('echo')
  echo(@MessageBody() data: string) {
    return new Message('echo', data);
  }
  @Command('shout')
  async shout(@MessageBody() data: string) {
    await this.push.toChannel('news', new Message('shout', data));
  }
  @ListenChannel('news')
  news() {}
}

let running: RunningApp;
before(async () => {
  running = await startApp({ imports: [EasyWsModule.forRoot()], providers: [Chat] });
});
after(() => running.close());

test('smoke', async () => {
  const client = await TestClient.connect(running.url(), { protocols: ['cmd.fossores.de'] });
  assert.match(await client.next(), /^welcome: Hello [0-9a-f-]{36}$/);
  assert.equal(await client.request('echo: hi'), 'echo: hi');
  client.send('listen: news');
  assert.equal(await client.request('shout: yo'), 'shout: yo');
  assert.equal(await client.request('nope: x'), 'websocket: command not supported by server');
  await client.close();
});
