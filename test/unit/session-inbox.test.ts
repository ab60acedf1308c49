/**
 * A session hands its frames on one at a time, in the order they arrived, whether a
 * handler answers at once or with a promise; while a handler is at work, frames wait,
 * and once 64 wait the session stops reading the socket until 32 are left. Real
 * sockets on loopback: a `ws` server's socket under a `Session`, and a `ws` client.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Logger } from '@nestjs/common';
import { WebSocket, WebSocketServer } from 'ws';
import { ENDPOINT_DEFAULTS } from '../../lib/endpoint/endpoint-options.js';
import { EndpointStats } from '../../lib/endpoint/endpoint-stats.js';
import { type FrameHandler, newSessionId, Session } from '../../lib/endpoint/session.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { until } from '../support/until.js';

const logger = new RecordingLogger();
Logger.overrideLogger(logger);

let wss: WebSocketServer;
let url: string;
const clients: WebSocket[] = [];

before(async () => {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 1024 * 1024 });
  await once(wss, 'listening');
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
});
after(async () => {
  for (const client of clients) {
    client.terminate();
  }
  await new Promise((resolve) => wss.close(resolve));
});

/** A session on the server's side of a new connection, served by `handler`, and the client. */
async function serve(handler: FrameHandler): Promise<{ session: Session; server: WebSocket; client: WebSocket }> {
  const accepted = once(wss, 'connection');
  const client = new WebSocket(url);
  clients.push(client);
  await once(client, 'open');
  const [server] = (await accepted) as [WebSocket];
  const limits = { ...ENDPOINT_DEFAULTS, rateLimit: undefined };
  const credentials = { token: undefined, data: {}, userId: undefined, expiresAt: undefined };
  const session = new Session(newSessionId(), credentials, {}, undefined, server, limits, new EndpointStats());
  session.serve(handler, Promise.resolve());
  return { session, server, client };
}

/** A promise and the function that settles it. */
function gate(): { opened: Promise<void>; open(): void } {
  let open = (): void => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

test('frames are handled one at a time and in order, whether their handlers answer at once or later', async () => {
  const log: string[] = [];
  let running = 0;
  let overlapped = false;
  const done = gate();
  const { client } = await serve((frame) => {
    const index = Number(frame.toString());
    overlapped ||= running > 0;
    running++;
    log.push(`start ${index}`);
    const finish = (): void => {
      running--;
      log.push(`end ${index}`);
      if (index === 19) {
        done.open();
      }
    };
    if (index % 3 === 0) {
      finish();
      return undefined;
    }
    return new Promise<void>((resolve) => setImmediate(resolve)).then(finish);
  });
  for (let index = 0; index < 20; index++) {
    client.send(String(index));
  }
  await done.opened;
  assert.equal(overlapped, false, 'a frame was handled while another was still at work');
  assert.deepEqual(
    log,
    Array.from({ length: 20 }, (_, index) => [`start ${index}`, `end ${index}`]).flat(),
  );
});

test('a failing handler, throwing or rejecting, costs only its own frame', async () => {
  const handled: string[] = [];
  const done = gate();
  const { client } = await serve((frame) => {
    const text = frame.toString();
    handled.push(text);
    if (text === 'last') {
      done.open();
    }
    if (text === 'throw') {
      throw new Error('failed at once');
    }
    return text === 'reject' ? Promise.reject(new Error('failed later')) : undefined;
  });
  for (const text of ['throw', 'after throw', 'reject', 'last']) {
    client.send(text);
  }
  await done.opened;
  assert.deepEqual(handled, ['throw', 'after throw', 'reject', 'last']);
  assert.deepEqual(
    logger.find('error', 'Handling a frame failed').map(({ text }) => /failed (at once|later)/.exec(text)?.[0]),
    ['failed at once', 'failed later'],
  );
});

test('with 64 frames waiting the session stops reading; it reads again once 32 are left, and none is lost', async () => {
  const total = 200;
  const first = gate();
  const done = gate();
  const handled: number[] = [];
  let received = 0;
  let pausedSeen = false;
  let waitingWhenResumed: number | undefined;
  const { server, client } = await serve((data) => {
    // This frame and those behind it: nothing is read while the session does not read.
    const waiting = received - handled.length;
    if (pausedSeen && !server.isPaused) {
      waitingWhenResumed ??= waiting;
    }
    pausedSeen ||= server.isPaused;
    handled.push(data[0]);
    if (handled.length === total) {
      done.open();
    }
    return handled.length === 1 ? first.opened : undefined;
  });
  server.on('message', () => received++);
  for (let index = 0; index < total; index++) {
    client.send(Buffer.alloc(16 * 1024, index % 256));
  }
  // The first frame's handler holds on, so the frames behind it wait until reading stops.
  await until('the session to stop reading', () => server.isPaused, (paused) => paused);
  assert.ok(received > 64 && received < total, `${received} frames were read while the first was being handled`);
  first.open();
  await done.opened;
  assert.equal(waitingWhenResumed, 32, 'frames waiting when reading resumed');
  assert.deepEqual(handled, Array.from({ length: total }, (_, index) => index % 256), 'every frame was handled, in order');
});
