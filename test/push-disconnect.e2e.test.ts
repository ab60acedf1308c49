import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Injectable } from '@nestjs/common';
import { ConnectedSocket, MessageBody } from '@nestjs/websockets';
import { Command, EasyWsModule, type EasyWsSession, Message, PushService } from 'nestjs-easy-ws';
import { startApp, type RunningApp } from './support/app.js';
import { TestClient } from './support/client.js';

/** `leave: <reason>` has the server disconnect the session, with the reason if one is given. */
@Injectable()
class Leaving {
  constructor(private readonly push: PushService) {}

  @Command('leave')
  async leave(@ConnectedSocket() session: EasyWsSession, @MessageBody() reason: string) {
    await this.push.disconnect(session.id, undefined, reason || undefined);
  }

  @Command('leave-with')
  async leaveWith(@ConnectedSocket() session: EasyWsSession, @MessageBody() code: number) {
    try {
      await this.push.disconnect(session.id, code);
    } catch (error) {
      return new Message('refused', (error as Error).message);
    }
  }
}

let running: RunningApp;
before(async () => {
  running = await startApp({ imports: [EasyWsModule.forRoot()], providers: [Leaving] });
});
after(() => running.close());

test('PushService.disconnect without a code closes with 1000', async () => {
  const client = await TestClient.connect(running.url());
  client.send('leave: ');
  assert.deepEqual(await client.closed, { code: 1000, reason: '' });
});

test('PushService.disconnect with a reason but no code closes with 1000 and that reason', async () => {
  const client = await TestClient.connect(running.url());
  client.send('leave: see you');
  assert.deepEqual(await client.closed, { code: 1000, reason: 'see you' });
});

test('a close code no close frame may carry is refused, and the session stays open', async () => {
  const client = await TestClient.connect(running.url());
  assert.match(await client.request('leave-with: 1005'), /^refused: .*valid error code/);
  client.send('leave-with: 4000');
  assert.deepEqual(await client.closed, { code: 4000, reason: '' });
});
