import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Injectable } from '@nestjs/common';
import { ConnectedSocket, MessageBody } from '@nestjs/websockets';
import { Command, EasyWsModule, type EasyWsSession, ListenChannel, Message, OnOpen, PushService } from 'nestjs-easy-ws';
import { EasyWsTestClient } from 'nestjs-easy-ws/testing';
import { startApp, type RunningApp } from '../support/app.js';

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
  const client = await EasyWsTestClient.connect(running.app, { protocols: ['cmd.fossores.de'] });
  assert.match((await client.expectFrame()).text, /^welcome: Hello [0-9a-f-]{36}$/);
  client.send('echo', 'hi');
  assert.equal((await client.expectFrame()).text, 'echo: hi');
  client.sendFrame('listen: news');
  client.send('shout', 'yo');
  assert.equal((await client.expectFrame()).text, 'shout: yo');
  client.send('nope', 'x');
  assert.equal((await client.expectFrame()).text, 'websocket: command not supported by server');
  await client.close();
});
