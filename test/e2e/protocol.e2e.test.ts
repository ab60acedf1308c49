import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type CanActivate, type ExecutionContext, Injectable, UseGuards } from '@nestjs/common';
import { ConnectedSocket, MessageBody, WsException } from '@nestjs/websockets';
import {
  ChannelParam,
  type ChannelRequest,
  Command,
  EasyWsModule,
  type EasyWsSession,
  ListenChannel,
  Message,
  PushService,
} from 'nestjs-easy-ws';
import { startApp, type RunningApp } from '../support/app.js';
import { TestClient } from '../support/client.js';
import { RecordingLogger } from '../support/recording-logger.js';

@Injectable()
class DenyGuard implements CanActivate {
  canActivate(): boolean {
    return false;
  }
}

/** A guard that explains itself; the client must never see the explanation. */
@Injectable()
class ExplainingGuard implements CanActivate {
  canActivate(): boolean {
    throw new WsException('the vault code is 1234');
  }
}

@Injectable()
class BrokenGuard implements CanActivate {
  canActivate(): boolean {
    throw new Error('guard database down');
  }
}

/** Room 7 is closed; the others are open. */
@Injectable()
class RoomGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToWs().getData<ChannelRequest>().params.room !== '7';
  }
}

@Injectable()
class ProtocolCommands {
  @Command('echo')
  echo(@MessageBody() data: string) {
    return new Message('echo', data);
  }

  /** Tells what the handler received: its type, and for bytes their hex. */
  @Command('inspect')
  inspect(@MessageBody() data: unknown) {
    const received = Buffer.isBuffer(data) ? `Buffer ${data.toString('hex')}` : `${typeof data} ${JSON.stringify(data)}`;
    return new Message('inspect', received);
  }

  /** Sends bytes back as bytes. */
  @Command('bytes')
  bytes(@MessageBody() data: Buffer) {
    return new Message('bytes', data);
  }

  /** Answers after a few turns of the event loop, so that a later frame would overtake it if order were not kept. */
  @Command('slow')
  async slow(@MessageBody() data: string) {
    for (let turn = 0; turn < 5; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    return new Message('slow', data);
  }

  @Command('silent')
  silent() {}

  @Command('boom')
  boom() {
    throw new Error('kaboom: secret detail');
  }

  @Command('refuse')
  refuse() {
    throw new WsException('you may not');
  }

  @Command('refuseObject')
  refuseObject() {
    throw new WsException({ message: 'object reason', code: 42 });
  }

  @Command('guarded')
  @UseGuards(DenyGuard)
  guarded() {
    return new Message('guarded', 'should never be sent');
  }

  @ListenChannel('news')
  news() {}

  @ListenChannel('rooms/:room')
  @UseGuards(RoomGuard)
  joined(@ChannelParam('room') room: string) {
    return new Message('joined', room);
  }

  @ListenChannel('rooms/lobby')
  lobby() {
    return new Message('lobby', 'the exact declaration');
  }

  @ListenChannel('boards/:board/threads/:thread')
  thread(@ChannelParam() params: Record<string, string>) {
    return new Message('thread', params);
  }

  @ListenChannel('secret')
  @UseGuards(DenyGuard)
  secret() {}

  @ListenChannel('vault')
  @UseGuards(ExplainingGuard)
  vault() {}

  @ListenChannel('broken')
  @UseGuards(BrokenGuard)
  broken() {}

  @ListenChannel('whoami')
  whoami(@ConnectedSocket() session: EasyWsSession, @MessageBody() request: ChannelRequest) {
    return new Message('whoami', { session: session.id.length === 36, request });
  }
}

let running: RunningApp;
const logger = new RecordingLogger();
before(async () => {
  running = await startApp(
    { imports: [EasyWsModule.forRoot()], providers: [ProtocolCommands, DenyGuard, ExplainingGuard, BrokenGuard, RoomGuard] },
    { logger },
  );
});
after(() => running.close());

function push(channel: string, data: string): Promise<void> {
  return running.app.get(PushService).toChannel(channel, new Message('push', data));
}

/** Both ways an old client connects: with the Go package's subprotocol, and with none. */
for (const protocols of [['cmd.fossores.de'], []]) {
  describe(`original protocol, subprotocol ${protocols[0] ?? 'none'}`, () => {
    let client: TestClient;
    before(async () => {
      client = await TestClient.connect(running.url(), { protocols });
    });
    after(() => client.close());

    describe('commands the server understands', () => {
      test('`listen: <channel>` subscribes without a word: the next frame answers a later command', async () => {
        client.send('listen: news');
        assert.equal(await client.request('echo: after listen'), 'echo: after listen');
        await push('news', 'first');
        assert.equal(await client.next(), 'push: first');
      });

      test('`unlisten: <channel>` unsubscribes without a word, and pushes stop', async () => {
        client.send('unlisten: news');
        assert.equal(await client.request('echo: after unlisten'), 'echo: after unlisten');
        await push('news', 'not for you');
        assert.equal(await client.request('echo: nothing came'), 'echo: nothing came');
      });

      test('`<command>: <data>` calls the handler and sends its reply', async () => {
        assert.equal(await client.request('echo: hello: world'), 'echo: hello: world');
      });

      test('a handler that returns nothing sends nothing', async () => {
        client.send('silent: x');
        assert.equal(await client.request('echo: next'), 'echo: next');
      });
    });

    describe('server notices', () => {
      test('listen to a channel whose guard denies: `websocket: not authorized`', async () => {
        assert.equal(await client.request('listen: secret'), 'websocket: not authorized');
        assert.equal(await client.request('listen: rooms/7'), 'websocket: not authorized');
      });

      test('the guard\'s reason never reaches the client, even in a WsException, which is a refusal and no server error', async () => {
        const mark = logger.entries.length;
        assert.equal(await client.request('listen: vault'), 'websocket: not authorized');
        assert.deepEqual(logger.errorsSince(mark), []);
      });

      test('a guard that fails is a denial too, and the failure is logged once, with its stack', async () => {
        const mark = logger.entries.length;
        assert.equal(await client.request('listen: broken'), 'websocket: not authorized');
        const errors = logger.errorsSince(mark);
        assert.equal(errors.length, 1, errors.join('\n---\n'));
        assert.match(errors[0], /guard database down\n\s+at BrokenGuard\.canActivate/);
      });

      test('a denied listen subscribes nothing', async () => {
        client.send('listen: secret');
        assert.equal(await client.next(), 'websocket: not authorized');
        await push('secret', 'leak');
        assert.equal(await client.request('echo: still nothing'), 'echo: still nothing');
      });

      test('listen to a channel that does not exist: `websocket: channel does not exist`', async () => {
        for (const channel of ['nothing', 'News', 'rooms', 'rooms/', 'rooms/a/b', 'boards/x/threads/', '']) {
          assert.equal(await client.request(`listen: ${channel}`), 'websocket: channel does not exist', `channel "${channel}"`);
        }
      });

      test('a channel name over 255 bytes does not exist, even where a pattern would match it', async () => {
        assert.equal(await client.request(`listen: rooms/${'r'.repeat(250)}`), 'websocket: channel does not exist');
        assert.equal(await client.request(`listen: rooms/${'r'.repeat(249)}`), `joined: ${'r'.repeat(249)}`);
        client.send(`unlisten: rooms/${'r'.repeat(249)}`);
      });

      test('listen twice: `websocket: already listening`', async () => {
        client.send('listen: news');
        assert.equal(await client.request('listen: news'), 'websocket: already listening');
        client.send('unlisten: news');
      });

      test('a frame with no command: `websocket: command not supported by server`', async () => {
        for (const frame of ['hello', ': x', ': a: b', 'echo:x', 'echo :x', '', `${'e'.repeat(256)}: x`]) {
          assert.equal(await client.request(frame), 'websocket: command not supported by server', `frame "${frame}"`);
        }
      });

      test('a command with no handler: `websocket: command not supported by server`', async () => {
        assert.equal(await client.request('nope: x'), 'websocket: command not supported by server');
        assert.equal(await client.request('websocket: x'), 'websocket: command not supported by server');
      });

      test('commands are case-sensitive', async () => {
        assert.equal(await client.request('Echo: x'), 'websocket: command not supported by server');
        assert.equal(await client.request('LISTEN: news'), 'websocket: command not supported by server');
      });

      test('a command handler\'s guard denies: `websocket: not authorized`, and the handler does not run', async () => {
        assert.equal(await client.request('guarded: x'), 'websocket: not authorized');
        assert.equal(await client.request('echo: next'), 'echo: next');
      });

      test('a handler throws a WsException: `websocket: <its message>`, an answer and not a server error', async () => {
        const mark = logger.entries.length;
        assert.equal(await client.request('refuse: x'), 'websocket: you may not');
        assert.equal(await client.request('refuseObject: x'), 'websocket: object reason');
        assert.deepEqual(logger.errorsSince(mark), []);
      });

      test('a handler throws anything else: `websocket: internal server error`, logged once with its stack', async () => {
        const mark = logger.entries.length;
        assert.equal(await client.request('boom: x'), 'websocket: internal server error');
        const errors = logger.errorsSince(mark);
        assert.equal(errors.length, 1, errors.join('\n---\n'));
        assert.match(errors[0], /ProtocolCommands\.boom.*kaboom: secret detail\n[^]*\n\s+at ProtocolCommands\.boom/);
      });

      test('`unlisten` for a channel the session does not listen to: `websocket: not listening`', async () => {
        assert.equal(await client.request('unlisten: news'), 'websocket: not listening');
        assert.equal(await client.request('unlisten: nothing'), 'websocket: not listening');
      });
    });

    describe('frames', () => {
      test('data may be empty: `ping: ` is a valid frame', async () => {
        assert.equal(await client.request('inspect: '), 'inspect: string ""');
      });

      test('data is opaque text, JSON included', async () => {
        assert.equal(await client.request('inspect: {"a":1}'), 'inspect: string "{\\"a\\":1}"');
      });

      test('a binary frame is parsed the same way; its data reaches the handler as a Buffer', async () => {
        client.send(Buffer.concat([Buffer.from('inspect: '), Buffer.from([0, 0xff, 0x10])]), true);
        assert.equal(await client.next(), 'inspect: Buffer 00ff10');
        client.send(Buffer.concat([Buffer.from('bytes: '), Buffer.from([0xde, 0xad])]), true);
        const reply = await client.nextFrame();
        assert.equal(reply.binary, true);
        assert.deepEqual(reply.bytes, Buffer.concat([Buffer.from('bytes: '), Buffer.from([0xde, 0xad])]));
      });

      test('a binary frame without a command gets the notice', async () => {
        client.send(Buffer.from([0xff, 0x00]), true);
        assert.equal(await client.next(), 'websocket: command not supported by server');
      });

      test('frames are handled in the order they arrive', async () => {
        client.send('slow: 1');
        client.send('echo: 2');
        client.send('slow: 3');
        client.send('nope: 4');
        client.send('echo: 5');
        assert.deepEqual(
          [await client.next(), await client.next(), await client.next(), await client.next(), await client.next()],
          ['slow: 1', 'echo: 2', 'slow: 3', 'websocket: command not supported by server', 'echo: 5'],
        );
      });
    });

    describe('channels', () => {
      test('a pattern matches one segment; @ChannelParam gives its value; the reply is the first frame', async () => {
        assert.equal(await client.request('listen: rooms/42'), 'joined: 42');
        await push('rooms/42', 'in 42');
        assert.equal(await client.next(), 'push: in 42');
        client.send('unlisten: rooms/42');
      });

      test('an exact declaration beats a pattern that matches the same name', async () => {
        assert.equal(await client.request('listen: rooms/lobby'), 'lobby: the exact declaration');
        client.send('unlisten: rooms/lobby');
      });

      test('several params, all by name', async () => {
        assert.equal(await client.request('listen: boards/b1/threads/t9'), 'thread: {"board":"b1","thread":"t9"}');
        client.send('unlisten: boards/b1/threads/t9');
      });

      test('the channel method gets the session and the request as its body', async () => {
        assert.equal(await client.request('listen: whoami'), `whoami: {"session":true,"request":{"channel":"whoami","params":{}}}`);
        client.send('unlisten: whoami');
      });

      test('a push reaches each listener once, whatever channels it listens to', async () => {
        client.send('listen: news');
        assert.equal(await client.request('listen: rooms/1'), 'joined: 1');
        await push('news', 'once');
        assert.equal(await client.next(), 'push: once');
        assert.equal(await client.request('echo: no second copy'), 'echo: no second copy');
        client.send('unlisten: news');
        client.send('unlisten: rooms/1');
      });
    });
  });
}

describe('text frames that are not UTF-8', () => {
  test('close the connection with 1007; the server carries on', async () => {
    const client = await TestClient.connect(running.url());
    client.send(Buffer.from([0x65, 0x3a, 0x20, 0xff]), false);
    assert.equal((await client.closed).code, 1007);
    const next = await TestClient.connect(running.url());
    assert.equal(await next.request('echo: ok'), 'echo: ok');
    await next.close();
  });
});

describe('acknowledged mode (easy-ws.v1)', () => {
  let client: TestClient;
  before(async () => {
    client = await TestClient.connect(running.url(), { protocols: ['easy-ws.v1'] });
  });
  after(() => client.close());

  const notice = (answer: object): string => `websocket: ${JSON.stringify(answer)}`;

  test('a successful listen is acknowledged once, after the channel method\'s first frame', async () => {
    assert.equal(await client.request('listen: rooms/42'), 'joined: 42');
    assert.equal(await client.next(), 'websocket: {"op":"listen","channel":"rooms/42","ok":true}');
    client.send('listen: news');
    assert.equal(await client.next(), notice({ op: 'listen', channel: 'news', ok: true }));
  });

  test('a denied listen names the channel and the notice text', async () => {
    assert.equal(
      await client.request('listen: rooms/7'),
      'websocket: {"op":"listen","channel":"rooms/7","ok":false,"error":"not authorized"}',
    );
    assert.equal(await client.request('listen: vault'), notice({ op: 'listen', channel: 'vault', ok: false, error: 'not authorized' }));
  });

  test('every other listen failure, as JSON', async () => {
    assert.equal(
      await client.request('listen: nothing'),
      notice({ op: 'listen', channel: 'nothing', ok: false, error: 'channel does not exist' }),
    );
    assert.equal(await client.request('listen: news'), notice({ op: 'listen', channel: 'news', ok: false, error: 'already listening' }));
  });

  test('unlisten is acknowledged, and so is one for a channel not listened to', async () => {
    assert.equal(await client.request('unlisten: news'), 'websocket: {"op":"unlisten","channel":"news","ok":true}');
    assert.equal(await client.request('unlisten: news'), notice({ op: 'unlisten', channel: 'news', ok: false, error: 'not listening' }));
  });

  test('command errors name the command', async () => {
    assert.equal(
      await client.request('boom: x'),
      'websocket: {"op":"command","command":"boom","ok":false,"error":"internal server error"}',
    );
    assert.equal(await client.request('refuse: x'), notice({ op: 'command', command: 'refuse', ok: false, error: 'you may not' }));
    assert.equal(await client.request('guarded: x'), notice({ op: 'command', command: 'guarded', ok: false, error: 'not authorized' }));
    assert.equal(
      await client.request('nope: x'),
      notice({ op: 'command', command: 'nope', ok: false, error: 'command not supported by server' }),
    );
  });

  test('a frame with no command', async () => {
    assert.equal(await client.request('hello'), 'websocket: {"op":"frame","ok":false,"error":"command not supported by server"}');
  });

  test('replies and pushes are the same as in the original mode', async () => {
    assert.equal(await client.request('echo: plain'), 'echo: plain');
    client.send('silent: x');
    assert.equal(await client.request('echo: nothing for silent'), 'echo: nothing for silent');
    await push('rooms/42', 'pushed');
    assert.equal(await client.next(), 'push: pushed');
  });
});
