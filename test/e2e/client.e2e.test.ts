import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import WebSocket, { WebSocketServer } from 'ws';
import { Message, PushService } from 'nestjs-easy-ws';
import {
  EasyWsClient,
  type EasyWsClientEvents,
  type EasyWsClientOptions,
  EasyWsNoticeError,
  type WebSocketConstructor,
} from 'nestjs-easy-ws/client';
import { startApp, type RunningApp } from '../support/app.js';
import { chatFixture } from '../support/chat-fixture.js';
import { freePort } from '../support/ports.js';

/** A test that waits for what never comes fails instead of hanging. */
const LIMIT = { timeout: 20_000 };

function chatApp(port = 0, refusedRooms?: string[]): Promise<RunningApp> {
  return startApp(chatFixture(refusedRooms), { port });
}

/** Quick reconnects, so that tests of a restart take milliseconds. */
const FAST: EasyWsClientOptions = { WebSocket, reconnect: { minDelay: 5, maxDelay: 50 } };

/** The next `event` of the client. */
function nextEvent<K extends keyof EasyWsClientEvents>(client: EasyWsClient, event: K): Promise<EasyWsClientEvents[K]> {
  return new Promise((resolve) => {
    const off = client.onEvent(event, (value) => {
      off();
      resolve(value);
    });
  });
}

/** Records the frames of some commands in arrival order, so that a test awaits the next one. */
class Frames {
  private readonly received: string[] = [];
  private readonly waiting: Array<(frame: string) => void> = [];

  constructor(client: EasyWsClient, commands: string[]) {
    for (const command of commands) {
      client.on(command, (data) => {
        const frame = `${command}: ${data}`;
        const waiter = this.waiting.shift();
        if (waiter) {
          waiter(frame);
        } else {
          this.received.push(frame);
        }
      });
    }
  }

  next(): Promise<string> {
    const frame = this.received.shift();
    return frame !== undefined ? Promise.resolve(frame) : new Promise((resolve) => this.waiting.push(resolve));
  }
}

/** A `ws` constructor that counts the connections it opens. */
function countingWebSocket(): { WebSocket: WebSocketConstructor; count: () => number } {
  let count = 0;
  class Counting extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      count++;
    }
  }
  return { WebSocket: Counting, count: () => count };
}

async function connected(url: string, options: EasyWsClientOptions = FAST): Promise<EasyWsClient> {
  const client = new EasyWsClient(url, options);
  await nextEvent(client, 'open');
  return client;
}

describe('against a running server', LIMIT, () => {
  let running: RunningApp;
  before(async () => {
    running = await chatApp();
  });
  after(() => running.close());

  test('listen and unlisten resolve on success and reject with the notice text', async () => {
    const client = await connected(running.url());
    const frames = new Frames(client, ['news', 'echo']);
    await client.listen('news');
    assert.deepEqual([...client.channels], ['news']);
    await running.app.get(PushService).toChannel('news', new Message('news', 'first'));
    assert.equal(await frames.next(), 'news: first');

    const refusals = await Promise.allSettled([client.listen('news'), client.listen('nowhere'), client.listen('rooms/staff')]);
    assert.deepEqual(
      refusals.map((result) => result.status === 'rejected' && [(result.reason as Error).constructor, (result.reason as Error).message]),
      [
        [EasyWsNoticeError, 'already listening'],
        [EasyWsNoticeError, 'channel does not exist'],
        [EasyWsNoticeError, 'not authorized'],
      ],
    );
    const refused = refusals[2] as PromiseRejectedResult;
    assert.deepEqual({ ...(refused.reason as EasyWsNoticeError).notice }, { text: 'not authorized', op: 'listen', channel: 'rooms/staff' });
    assert.deepEqual([...client.channels], ['news']);

    await client.unlisten('news');
    assert.deepEqual([...client.channels], []);
    await assert.rejects(client.unlisten('news'), { name: 'EasyWsNoticeError', message: 'not listening' });
    // No longer listening: the push does not come, the echo sent after it does.
    await running.app.get(PushService).toChannel('news', new Message('news', 'second'));
    client.send('echo', 'after');
    assert.equal(await frames.next(), 'echo: after');
    await client.close();
  });

  test('other notices come as the notice event; JSON helpers parse and write JSON', async () => {
    const client = await connected(running.url());
    const notice = nextEvent(client, 'notice');
    client.send('refuse', 'x');
    assert.deepEqual({ ...(await notice) }, { text: 'no luck', op: 'command', command: 'refuse' });
    const unknown = nextEvent(client, 'notice');
    client.send('nope');
    assert.deepEqual({ ...(await unknown) }, { text: 'command not supported by server', op: 'command', command: 'nope' });

    const parsed = new Promise((resolve) => client.onJson('echo', resolve));
    client.sendJson('echo', { room: 'lobby', text: 'héllo' });
    assert.deepEqual(await parsed, { room: 'lobby', text: 'héllo' });

    const failure = nextEvent(client, 'error');
    client.send('echo', 'not json');
    const { error, command } = await failure;
    assert.equal(command, 'echo');
    assert.ok(error instanceof SyntaxError);
    await client.close();
  });

  test('commands the protocol reserves or forbids are refused before anything is sent', async () => {
    const client = await connected(running.url());
    assert.throws(() => client.send('listen', 'news'), { name: 'TypeError', message: /reserved/ });
    assert.throws(() => client.send('a:b', 'x'), { name: 'TypeError', message: /must not contain ":"/ });
    assert.throws(() => client.send('', 'x'), TypeError);
    assert.throws(() => client.on('websocket', () => undefined), { name: 'TypeError', message: /reserved/ });
    assert.throws(() => client.sendJson('echo', undefined), TypeError);
    // No channel has such a name, and the server's answer would name only a prefix of it.
    for (const channel of ['', 'x'.repeat(256), 'é'.repeat(128)]) {
      await assert.rejects(client.listen(channel), { name: 'RangeError', code: 'EASY_WS_INVALID_ARGUMENT' }, `${channel.length} characters`);
      await assert.rejects(client.unlisten(channel), { name: 'RangeError', code: 'EASY_WS_INVALID_ARGUMENT' });
    }
    await client.listen('x'.repeat(255)).catch((error: EasyWsNoticeError) => assert.equal(error.message, 'channel does not exist'));
    await client.close();
  });

  test('close() closes for good: no reconnect, sends and listens fail', async () => {
    const { WebSocket: Counting, count } = countingWebSocket();
    const client = await connected(running.url(), { ...FAST, WebSocket: Counting });
    let reconnects = 0;
    client.onEvent('reconnecting', () => reconnects++);
    const closed = nextEvent(client, 'close');
    assert.throws(() => client.close(1001), RangeError);
    assert.equal(client.state, 'open');
    await client.close();
    // A reconnect would have been scheduled, and announced, when the close event was handled.
    assert.deepEqual(await closed, { code: 1000, reason: '', willReconnect: false });
    assert.equal(client.state, 'closed');
    assert.equal(reconnects, 0);
    assert.equal(count(), 1);
    assert.throws(() => client.send('echo', 'x'), /closed/);
    await assert.rejects(client.listen('news'), /closed/);
  });

  test('a connection the server closes is opened again, and the client listens again', async () => {
    const client = await connected(running.url());
    const frames = new Frames(client, ['whoami', 'joined']);
    client.send('whoami');
    const sessionId = (await frames.next()).slice('whoami: '.length);
    await client.listen('rooms/lobby');
    assert.equal(await frames.next(), 'joined: lobby');
    const lost = nextEvent(client, 'close');
    const reopened = nextEvent(client, 'open');
    await running.app.get(PushService).disconnect(sessionId, 4000, 'maintenance');
    assert.deepEqual(await lost, { code: 4000, reason: 'maintenance', willReconnect: true });
    assert.deepEqual(await reopened, { reconnected: true });
    assert.equal(await frames.next(), 'joined: lobby');
    await client.close();
  });
});

describe('reconnection', LIMIT, () => {
  test('after the server restarts on the same port, the client reconnects, listens again and sends what it queued', async () => {
    let running = await chatApp();
    const { port } = running;
    const client = await connected(running.url(), { ...FAST, maxQueuedFrames: 2 });
    const frames = new Frames(client, ['joined', 'echo', 'said']);
    await client.listen('rooms/lobby');
    assert.equal(await frames.next(), 'joined: lobby');

    const lost = nextEvent(client, 'close');
    await running.close();
    assert.equal((await lost).willReconnect, true);
    assert.notEqual(client.state, 'open');
    // While disconnected: two frames wait in the queue, the third is refused; a listen waits too.
    client.send('echo', 'one');
    client.send('echo', 'two');
    assert.throws(() => client.send('echo', 'three'), /queue is full \(2 frames\)/);
    const news = client.listen('news');

    const reopened = nextEvent(client, 'open');
    running = await chatApp(port);
    try {
      assert.deepEqual(await reopened, { reconnected: true });
      await news;
      assert.deepEqual(new Set(client.channels), new Set(['rooms/lobby', 'news']));
      // The application did nothing: the client listened again by itself, then sent its queue.
      assert.equal(await frames.next(), 'joined: lobby');
      assert.equal(await frames.next(), 'echo: one');
      assert.equal(await frames.next(), 'echo: two');
      await running.app.get(PushService).toChannel('rooms/lobby', new Message('said', 'after the restart'));
      assert.equal(await frames.next(), 'said: after the restart');
      await client.close();
    } finally {
      await running.close();
    }
  });

  test('a channel the restarted server refuses is dropped and reported as a notice', async () => {
    let running = await chatApp();
    const { port } = running;
    const client = await connected(running.url());
    await client.listen('rooms/vip');
    await client.listen('news');
    const lost = nextEvent(client, 'close');
    await running.close();
    await lost;
    const notice = nextEvent(client, 'notice');
    const reopened = nextEvent(client, 'open');
    running = await chatApp(port, ['staff', 'vip']);
    try {
      assert.deepEqual({ ...(await notice) }, { text: 'not authorized', op: 'listen', channel: 'rooms/vip' });
      await reopened;
      assert.deepEqual([...client.channels], ['news']);
      await client.close();
    } finally {
      await running.close();
    }
  });

  test('backoff delays stay between minDelay and the growing ceiling, and the client gives up after maxAttempts', async () => {
    const port = await freePort();
    const randoms = [0.999, 0, 0.5, 0.999, 0.999];
    const minDelay = 10;
    const maxDelay = 60;
    const client = new EasyWsClient(`ws://127.0.0.1:${port}/ws`, {
      WebSocket,
      reconnect: { minDelay, maxDelay, factor: 2, maxAttempts: randoms.length },
      random: () => randoms.shift()!,
    });
    const scheduled: Array<{ attempt: number; delay: number }> = [];
    client.onEvent('reconnecting', (event) => scheduled.push(event));
    const closes: boolean[] = [];
    const gaveUp = new Promise<void>((resolve) =>
      client.onEvent('close', ({ willReconnect }) => {
        closes.push(willReconnect);
        if (!willReconnect) {
          resolve();
        }
      }),
    );
    const request = client.listen('news');
    await gaveUp;
    assert.deepEqual(closes, [true, true, true, true, true, false]);
    assert.deepEqual(scheduled.map(({ attempt }) => attempt), [1, 2, 3, 4, 5]);
    for (const { attempt, delay } of scheduled) {
      const ceiling = Math.min(maxDelay, minDelay * 2 ** attempt);
      assert.ok(delay >= minDelay && delay <= ceiling, `attempt ${attempt}: ${delay} ms is outside [${minDelay}, ${ceiling}]`);
    }
    // Random 0.999 comes near the ceiling (20, then capped at 60), random 0 gives the floor.
    assert.deepEqual(scheduled.map(({ delay }) => delay), [20, 10, 35, 60, 60]);
    assert.equal(client.state, 'closed');
    await assert.rejects(request, /closed for good/);
    assert.throws(() => client.send('echo', 'x'), /closed/);
  });

  test('close() while waiting to reconnect cancels the reconnect', async (context) => {
    context.mock.timers.enable({ apis: ['setTimeout'] });
    const port = await freePort();
    const url = `ws://127.0.0.1:${port}/ws`;
    const closedEarly = countingWebSocket();
    const control = countingWebSocket();
    const reconnect = { minDelay: 100, maxDelay: 100 };
    const early = new EasyWsClient(url, { WebSocket: closedEarly.WebSocket, reconnect });
    const other = new EasyWsClient(url, { WebSocket: control.WebSocket, reconnect });
    await Promise.all([nextEvent(early, 'reconnecting'), nextEvent(other, 'reconnecting')]);
    await early.close();
    context.mock.timers.tick(100);
    assert.equal(control.count(), 2, 'the client that was not closed tried again');
    assert.equal(closedEarly.count(), 1, 'the closed client did not');
    assert.equal(early.state, 'closed');
    await other.close();
  });
});

test('against a server of the original protocol, listen resolves once sent and notices come as events', LIMIT, async () => {
  // What the Go package does: it picks cmd.fossores.de, is silent on success, and bare on failure.
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (offered) => offered.has('cmd.fossores.de') && 'cmd.fossores.de' });
  await once(server, 'listening');
  const frames: string[] = [];
  server.on('connection', (socket) =>
    socket.on('message', (frame) => {
      frames.push(frame.toString());
      if (frame.toString() === 'listen: vip') {
        socket.send('websocket: not authorized');
      }
    }),
  );
  try {
    const client = await connected(`ws://127.0.0.1:${(server.address() as { port: number }).port}/`);
    await client.listen('news');
    const notice = nextEvent(client, 'notice');
    await client.listen('vip');
    assert.deepEqual(await notice, { text: 'not authorized' });
    assert.deepEqual(frames, ['listen: news', 'listen: vip']);
    await client.close();
  } finally {
    server.close();
  }
});

test('without a WebSocket on the platform or in the options, the constructor says what to do', LIMIT, () => {
  assert.equal(typeof (globalThis as { WebSocket?: unknown }).WebSocket, 'undefined');
  assert.throws(() => new EasyWsClient('ws://127.0.0.1:1/ws'), { name: 'TypeError', message: /pass one as options.WebSocket/ });
  assert.throws(() => new EasyWsClient('ws://127.0.0.1:1/ws', { WebSocket, reconnect: { minDelay: 10, maxDelay: 5 } }), RangeError);
  assert.throws(() => new EasyWsClient('ws://127.0.0.1:1/ws', { WebSocket, maxQueuedFrames: -1 }), RangeError);
});
