import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Injectable } from '@nestjs/common';
import { ConnectedSocket } from '@nestjs/websockets';
import { CLOSE_CODES, Command, EasyWsModule, type EasyWsSession, LocalBroker, Message, OnClose } from 'nestjs-easy-ws';
import { startApp, type RunningApp } from '../../support/app.js';
import { TestClient } from '../../support/client.js';
import { tryUpgrade } from '../../support/http.js';
import { RecordingLogger } from '../../support/recording-logger.js';

/** What happened on the server, in order. */
const events: string[] = [];

/** A promise with its resolve function, to hold a handler until the test lets it go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

class RecordingBroker extends LocalBroker {
  override async close(): Promise<void> {
    events.push('broker closed');
    await super.close();
  }
}

@Injectable()
class SlowWork {
  started = gate();
  release = gate();

  @Command('slow')
  async slow() {
    this.started.open();
    await this.release.promise;
    events.push('handler finished');
    return new Message('slow', 'done');
  }

  @Command('echo')
  echo() {
    return new Message('echo', 'now');
  }

  @OnClose()
  closed(@ConnectedSocket() session: EasyWsSession) {
    events.push(`close hook ${session.id}`);
  }
}

async function startWithClients(shutdownTimeout: number): Promise<{ running: RunningApp; logs: RecordingLogger; clients: TestClient[] }> {
  events.length = 0;
  const logs = new RecordingLogger();
  const running = await startApp(
    { imports: [EasyWsModule.forRoot({ broker: new RecordingBroker(), shutdownTimeout })], providers: [SlowWork] },
    { logger: logs },
  );
  const clients = await Promise.all([1, 2, 3].map(() => TestClient.connect(running.url())));
  return { running, logs, clients };
}

test('app.close(): refuses upgrades, lets the running handler finish and reply, then 1001 to all, close hooks, broker', { timeout: 20_000 }, async () => {
  const { running, logs, clients } = await startWithClients(10_000);
  const [busy, idle, late] = clients;
  const work = running.app.get(SlowWork);
  busy.send('slow: please');
  await work.started.promise;
  assert.equal(await idle.request('echo: x'), 'echo: now', 'others are served while the handler runs');

  const closing = running.close();
  await logs.logged(/^Shutting down \/ws/);
  assert.deepEqual(await tryUpgrade(running.port), { status: 503, body: 'Server shutting down\n' });
  late.send('echo: too late'); // reading has stopped: this frame is never handled

  work.release.open();
  assert.equal(await busy.next(), 'slow: done', 'the reply of the running handler is sent before the close');
  for (const client of clients) {
    assert.deepEqual(await client.closed, { code: CLOSE_CODES.goingAway, reason: 'server shutting down' });
  }
  await assert.rejects(late.next(), /connection closed \(1001\)/, 'the late frame got no answer');
  await closing;

  assert.equal(events[0], 'handler finished');
  assert.equal(events.length, 5);
  assert.ok(events.slice(1, 4).every((event) => event.startsWith('close hook ')), 'every close hook ran, after the handler');
  assert.equal(events[4], 'broker closed', 'the broker closes last');
  console.log(`# shutdown order: ${events.map((event) => event.replace(/ [0-9a-f-]{36}$/, '')).join(' -> ')}`);
});

test('a handler that outlasts shutdownTimeout does not hold shutdown up', { timeout: 20_000 }, async () => {
  const { running, logs, clients } = await startWithClients(200);
  const work = running.app.get(SlowWork);
  clients[0].send('slow: forever');
  await work.started.promise;

  await running.close();
  for (const client of clients) {
    assert.equal((await client.closed).code, CLOSE_CODES.goingAway);
  }
  assert.equal(logs.matching('warn', /Handlers were still running 200 ms into shutdown/).length, 1);
  assert.deepEqual(events.slice(-1), ['broker closed']);
  assert.equal(events.filter((event) => event.startsWith('close hook ')).length, 3);
  work.release.open(); // the handler ends after all; its reply has nowhere to go, and nothing breaks
});

test('a broker that does not finish closing holds shutdown up for shutdownTimeout at most', { timeout: 20_000 }, async () => {
  class StuckBroker extends LocalBroker {
    override close(): Promise<void> {
      events.push('broker closing');
      return new Promise(() => undefined); // a server that stopped answering
    }
  }
  events.length = 0;
  const logs = new RecordingLogger();
  const running = await startApp({ imports: [EasyWsModule.forRoot({ broker: new StuckBroker(), shutdownTimeout: 300 })], providers: [SlowWork] }, { logger: logs });
  const client = await TestClient.connect(running.url());
  const started = Date.now();
  await running.close();
  const ms = Date.now() - started;
  assert.ok(ms < 1_500, `closed in ${ms} ms`);
  assert.equal((await client.closed).code, CLOSE_CODES.goingAway);
  assert.deepEqual(events.slice(-1), ['broker closing']);
  assert.equal(logs.matching('warn', /^The broker had not closed 300 ms into its close; shutting down without it$/).length, 1);
});
