import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Body, type CanActivate, Controller, type ExecutionContext, HttpCode, Injectable, Param, Post, UseGuards } from '@nestjs/common';
import { MessageBody } from '@nestjs/websockets';
import { Command, EasyWsModule, type EasyWsSession, ListenChannel, Message, OnOpen, PushService } from 'nestjs-easy-ws';
import { startApp, type RunningApp } from '../support/app.js';
import { TestClient } from '../support/client.js';
import { upgradeRequest } from '../support/http.js';

/** The Go package's channel validator: only the token `valid` may listen. */
@Injectable()
class ValidTokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToWs().getClient<EasyWsSession>().token === 'valid';
  }
}

/** The handlers of the Go package's integration test, as this library writes them. */
@Injectable()
class GoHandlers {
  /** `handler.Handle("open", …)`: the message is the session id. */
  @OnOpen()
  open(@MessageBody() sessionId: string) {
    return new Message('welcome', `Hello ${sessionId}`);
  }

  /** `handler.Handle("test", …)` */
  @Command('test')
  test(@MessageBody() data: string) {
    return new Message('test', data);
  }

  /** `handler.RegisterListenChannel("test", nil)` */
  @ListenChannel('test')
  testChannel() {}

  /** `handler.RegisterListenChannel("restricted", validator)` */
  @ListenChannel('restricted')
  @UseGuards(ValidTokenGuard)
  restricted() {}
}

/** `WriteToChannel` and `WriteToClient`, triggered over HTTP as an application would. */
@Controller()
class PushController {
  constructor(private readonly push: PushService) {}

  @Post('channels/:channel')
  @HttpCode(202)
  toChannel(@Param('channel') channel: string, @Body('text') text: string) {
    return this.push.toChannel(channel, new Message('channel', text));
  }

  @Post('sessions/:id')
  @HttpCode(202)
  toSession(@Param('id') id: string, @Body('text') text: string) {
    return this.push.toSession(id, new Message('direct', text));
  }
}

let running: RunningApp;
before(async () => {
  running = await startApp({
    imports: [EasyWsModule.forRoot({ authenticate: (token) => token === 'valid' || token === 'visitor' })],
    controllers: [PushController],
    providers: [GoHandlers, ValidTokenGuard],
  });
});
after(() => running.close());

async function post(path: string, text: string): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${running.port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  });
  assert.equal(response.status, 202);
}

test('the Go package\'s integration scenario, end to end', async () => {
  // A client without the auth cookie is refused before the upgrade.
  const refused = await upgradeRequest(running.port, '/ws');
  assert.deepEqual([refused.status, refused.body], [403, 'Authentication failed\n']);

  // The auth cookie opens the connection; the open handler greets with the session id.
  const valid = await TestClient.connect(running.url(), { protocols: ['cmd.fossores.de'], headers: { Cookie: 'auth=valid' } });
  const visitor = await TestClient.connect(running.url(), { protocols: ['cmd.fossores.de'], headers: { Cookie: 'auth=visitor' } });
  const validId = await valid.sessionId();
  const visitorId = await visitor.sessionId();
  assert.notEqual(validId, visitorId);

  // listen is silent; a channel push reaches the listener and no one else.
  valid.send('listen: test');
  assert.equal(await valid.request('test: listening'), 'test: listening');
  await post('/channels/test', 'Thank you for listening!');
  assert.equal(await valid.next(), 'channel: Thank you for listening!');
  assert.equal(await visitor.request('test: nothing before this'), 'test: nothing before this');

  // An unknown command, then a command with a reply.
  assert.equal(await valid.request('unknown: x'), 'websocket: command not supported by server');
  assert.equal(await valid.request('test: data'), 'test: data');

  // A channel that does not exist, and one whose validator denies the token.
  assert.equal(await valid.request('listen: missing'), 'websocket: channel does not exist');
  assert.equal(await visitor.request('listen: restricted'), 'websocket: not authorized');
  valid.send('listen: restricted');
  assert.equal(await valid.request('test: listening'), 'test: listening');
  await post('/channels/restricted', 'for valid tokens');
  assert.equal(await valid.next(), 'channel: for valid tokens');
  assert.equal(await visitor.request('test: still nothing'), 'test: still nothing');

  // WriteToClient: a push to one session id reaches that session only.
  await post(`/sessions/${visitorId}`, 'This message is only sent to a single client');
  assert.equal(await visitor.next(), 'direct: This message is only sent to a single client');
  assert.equal(await valid.request('test: not for me'), 'test: not for me');

  await Promise.all([valid.close(), visitor.close()]);
});
