/**
 * The metrics as an operator scrapes them: a real application serves `/metrics` from
 * its own prom-client registry, real clients go through a scripted session, and the
 * scrape is read by Prometheus's own Python parser.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { type CanActivate, Controller, Get, Header, Injectable, UseGuards } from '@nestjs/common';
import { MessageBody, WsException } from '@nestjs/websockets';
import { Registry } from 'prom-client';
import { Command, EasyWsModule, type EasyWsOptions, type EasyWsSession, ListenChannel, Message, PushService, SessionRegistry } from 'nestjs-easy-ws';
import { EasyWsTestClient } from 'nestjs-easy-ws/testing';
import { type RunningApp, startApp } from '../support/app.js';
import { TestClient } from '../support/client.js';
import { upgradeRequest } from '../support/http.js';
import { type Scrape, scrape } from '../support/prometheus.js';
import { until } from '../support/until.js';

class Deny implements CanActivate {
  canActivate(): boolean {
    return false;
  }
}

@Injectable()
class Handlers {
  @Command('echo')
  echo(@MessageBody() data: string) {
    return new Message('echo', data);
  }

  @Command('shout')
  shout(): never {
    throw new WsException('too loud');
  }

  @ListenChannel('secret')
  @UseGuards(Deny)
  secret() {}

  @ListenChannel('feed')
  feed() {}

  @ListenChannel('rooms/:room', { history: { size: 10, ttl: 60_000 }, presence: true })
  room() {}
}

const registry = new Registry();

@Controller()
class MetricsController {
  @Get('metrics')
  @Header('Content-Type', registry.contentType)
  metrics(): Promise<string> {
    return registry.metrics();
  }
}

const ORIGIN = 'https://app.example';
const running: RunningApp[] = [];
const clients: Array<{ close(): unknown }> = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(running.splice(0).map((app) => app.close()));
});
after(() => registry.clear());

async function start(options: EasyWsOptions = {}): Promise<RunningApp> {
  const app = await startApp({
    imports: [EasyWsModule.forRoot({ metrics: { registry }, allowedOrigins: (origin) => origin === ORIGIN, ...options })],
    providers: [Handlers],
    controllers: [MetricsController],
  });
  running.push(app);
  return app;
}

async function connect(app: RunningApp): Promise<TestClient> {
  const client = await TestClient.connect(app.url());
  clients.push({ close: () => client.socket.terminate() });
  return client;
}

/** The open session that listens to `channel`. */
function listenerOf(app: RunningApp, channel: string): EasyWsSession {
  const [session] = app.app.get(SessionRegistry).listeners(channel);
  assert.ok(session, `a session listens to ${channel}`);
  return session;
}

/** Scrapes until `ready` holds, for counts that change when a connection's close reaches the server. */
function scrapeUntil(app: RunningApp, what: string, ready: (scraped: Scrape) => boolean): Promise<Scrape> {
  return until(what, () => scrape(app.port), ready);
}

test('a scripted session: each metric has its exact value', { timeout: 60_000 }, async () => {
  const app = await start({ maxBufferedBytes: 64 * 1024, slowConsumerGrace: 0 });

  // Three commands, a denied listen and a command nobody registered.
  const chatty = await connect(app);
  chatty.send('echo: one');
  chatty.send('echo: two');
  chatty.send('shout: hey');
  chatty.send('listen: secret');
  chatty.send('nope: 1');
  assert.deepEqual(
    [await chatty.next(), await chatty.next(), await chatty.next(), await chatty.next(), await chatty.next()],
    ['echo: one', 'echo: two', 'websocket: too loud', 'websocket: not authorized', 'websocket: command not supported by server'],
  );

  // A slow consumer: it stops reading, and pushes to its channel pile up until the server closes it.
  const slow = await connect(app);
  slow.send('listen: feed');
  await until('the slow client to listen', () => app.app.get(SessionRegistry).listenerCount, (count) => count === 1);
  slow.socket.pause();
  const push = app.app.get(PushService);
  const session = listenerOf(app, 'feed');
  const big = 'x'.repeat(256 * 1024);
  let pushes = 0;
  while (session.isOpen) {
    await push.toChannel('feed', new Message('feed', big));
    pushes++;
    await new Promise((resolve) => setImmediate(resolve));
  }
  slow.socket.resume();
  assert.equal((await slow.closed).code, 4000);
  const slowReceived = (await slow.remaining()).length;

  // A refused handshake.
  assert.equal((await upgradeRequest(app.port, '/ws', { Origin: 'https://elsewhere.example' })).status, 403);

  chatty.socket.close(1000);
  await once(chatty.socket, 'close');
  const scraped = await scrapeUntil(app, 'both closes to be counted', (each) => each.value('easyws_connections') === 0);

  assert.equal(scraped.value('easyws_connections_opened_total'), 2);
  assert.equal(scraped.value('easyws_connections_closed_total', { code: '1000' }), 1);
  assert.equal(scraped.value('easyws_connections_closed_total', { code: '4000' }), 1);
  assert.deepEqual(scraped.labelValues('easyws_connections_closed_total', 'code'), ['1000', '4000']);
  for (const [reason, count] of Object.entries({ origin: 1, auth: 0, limit: 0, timeout: 0, shutdown: 0 })) {
    assert.equal(scraped.value('easyws_handshakes_refused_total', { reason }), count, `refused for ${reason}`);
  }

  const received = { echo: 2, shout: 1, listen: 2, unlisten: 0, websocket: 0, unknown: 1 };
  for (const [command, count] of Object.entries(received)) {
    assert.equal(scraped.value('easyws_frames_received_total', { command }), count, `frames of ${command}`);
  }
  assert.deepEqual(scraped.labelValues('easyws_frames_received_total', 'command'), Object.keys(received).sort());
  assert.equal(scraped.value('easyws_frames_sent_total'), 5 + slowReceived);
  assert.ok(slowReceived > 0 && slowReceived <= pushes, `the slow client got ${slowReceived} of ${pushes} frames before it was closed`);

  for (const [command, count] of Object.entries({ echo: 2, shout: 1 })) {
    assert.equal(scraped.value('easyws_handler_duration_seconds_count', { command }), count);
    assert.equal(scraped.value('easyws_handler_duration_seconds_bucket', { command, le: '+Inf' }), count);
    const sum = scraped.value('easyws_handler_duration_seconds_sum', { command });
    assert.ok(sum > 0 && sum < 1, `${command} took ${sum} s in all`);
  }
  const buckets = scraped.family('easyws_handler_duration_seconds').samples.filter((sample) => sample.name.endsWith('_bucket') && sample.labels.command === 'echo');
  assert.ok(buckets.every((bucket, index) => index === 0 || bucket.value >= buckets[index - 1].value), 'buckets are cumulative');

  assert.equal(scraped.value('easyws_notices_total', { notice: 'application' }), 1);
  assert.equal(scraped.value('easyws_notices_total', { notice: 'notAuthorized' }), 1);
  assert.equal(scraped.value('easyws_notices_total', { notice: 'notSupported' }), 1);
  assert.deepEqual(scraped.labelValues('easyws_notices_total', 'notice'), ['application', 'notAuthorized', 'notSupported']);

  assert.equal(scraped.value('easyws_channels'), 0);
  assert.equal(scraped.value('easyws_channel_listeners'), 0);
  assert.equal(scraped.value('easyws_push_deliveries_total'), pushes);
  assert.equal(scraped.value('easyws_frames_dropped_total'), 0);
  assert.equal(scraped.value('easyws_slow_consumer_closes_total'), 1);
  assert.equal(scraped.value('easyws_rate_limited_total'), 0);
  assert.equal(scraped.value('easyws_broker_connected'), 1);
  assert.equal(scraped.value('easyws_broker_publish_duration_seconds_count'), pushes);
  assert.equal(scraped.value('easyws_history_pushes_total'), 0);
  assert.equal(scraped.value('easyws_presence_joins_total'), 0);
});

test('history and presence: pushes kept, recoveries, joins and leaves', { timeout: 30_000 }, async () => {
  const app = await start();
  const member = await EasyWsTestClient.connect(app.app);
  clients.push(member);
  const answer = await member.track('rooms/a');
  assert.ok(answer.ok && answer.position, 'the channel keeps history');
  const { position } = answer;
  const push = app.app.get(PushService);
  await push.toChannel('rooms/a', new Message('say', 'one'));
  await push.toChannel('rooms/a', new Message('say', 'two'));
  await member.expectFrame((frame) => frame.text === 'say: two');
  const late = await EasyWsTestClient.connect(app.app);
  clients.push(late);
  const caughtUp = await late.track('rooms/a', { since: position });
  assert.ok(caughtUp.ok && caughtUp.recovered === true && caughtUp.missed === 2, 'the late client recovers both frames');
  const elsewhere = await late.recover('rooms/a', { epoch: 'another epoch', offset: 1 });
  assert.ok(elsewhere.ok && elsewhere.recovered === false, 'a position under another epoch is not recovered');
  await late.close();

  const scraped = await scrapeUntil(app, 'the leave to be counted', (each) => each.value('easyws_presence_leaves_total') === 1);
  assert.equal(scraped.value('easyws_history_pushes_total'), 2);
  assert.equal(scraped.value('easyws_history_recoveries_total', { result: 'recovered' }), 1);
  assert.equal(scraped.value('easyws_history_recoveries_total', { result: 'not_recovered' }), 1);
  assert.equal(scraped.value('easyws_presence_joins_total'), 2);
  assert.equal(scraped.value('easyws_channels'), 1);
  assert.equal(scraped.value('easyws_channel_listeners'), 1);
  assert.equal(scraped.value('easyws_push_deliveries_total'), 2);
});

test('commands nobody registered count as unknown: clients cannot add label values', { timeout: 30_000 }, async () => {
  const app = await start();
  const client = await connect(app);
  for (let index = 0; index < 50; index++) {
    client.send(`made-up-${index}: x`);
    assert.equal(await client.next(), 'websocket: command not supported by server');
  }
  const scraped = await scrape(app.port);
  assert.equal(scraped.value('easyws_frames_received_total', { command: 'unknown' }), 50);
  assert.deepEqual(scraped.labelValues('easyws_frames_received_total', 'command'), ['echo', 'listen', 'shout', 'unknown', 'unlisten', 'websocket']);
  assert.deepEqual(scraped.labelValues('easyws_handler_duration_seconds_count', 'command'), ['echo', 'listen', 'shout', 'unlisten', 'websocket']);
  assert.deepEqual(scraped.labelValues('easyws_notices_total', 'notice'), ['notSupported']);
});

test('an application closed takes its metrics off the registry, so that another can register them', async () => {
  const first = await start();
  await first.close();
  running.splice(running.indexOf(first), 1);
  assert.equal(registry.getSingleMetric('easyws_connections'), undefined);
  const second = await start();
  assert.equal((await scrape(second.port)).value('easyws_connections_opened_total'), 0);
});

test('two applications on one registry need their own prefixes', async () => {
  await start();
  await assert.rejects(start(), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'EASY_WS_INVALID_OPTIONS');
    assert.match(error.message, /^EasyWsModule: "metrics": A metric with the name easyws_connections has already been registered\. .*"metrics\.prefix"/);
    return true;
  });
  const other = await start({ metrics: { registry, prefix: 'other_' } });
  assert.equal((await scrape(other.port)).value('other_connections'), 0);
});

test('metrics: true registers on prom-client\'s default registry', async () => {
  const { register } = await import('prom-client');
  const app = await startApp({ imports: [EasyWsModule.forRoot({ metrics: true })] });
  running.push(app);
  const client = await connect(app);
  client.send('listen: nowhere');
  assert.equal(await client.next(), 'websocket: channel does not exist');
  const text = await register.getSingleMetricAsString('easyws_notices_total');
  assert.match(text, /^easyws_notices_total\{notice="channelDoesNotExist"\} 1$/m);
});

test('bad metrics options stop start-up with a message naming them', () => {
  for (const [metrics, message] of [
    ['yes', '"metrics" must be true, false or { registry, prefix }, got "yes"'],
    [{ registry: {} }, '"metrics.registry" must be a prom-client Registry, such as new Registry() from prom-client'],
    [{ prefix: '9lives_' }, '"metrics.prefix" must be letters, digits, "_" and ":", not beginning with a digit, got "9lives_"'],
  ] as const) {
    assert.throws(() => EasyWsModule.forRoot({ metrics: metrics as never }), { code: 'EASY_WS_INVALID_OPTIONS', message: `EasyWsModule: ${message}` });
  }
});

test('an application without prom-client runs, and needs it only to turn metrics on', async () => {
  const probe = fileURLToPath(new URL('../support/optional-package-probe.js', import.meta.url));
  const hide = new URL('../support/hidden-packages.js', import.meta.url).href;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', hide, probe], { env: { ...process.env, HIDDEN_PACKAGES: 'prom-client' } });
  const { withoutDocument, withMetrics } = JSON.parse(stdout) as Record<string, unknown>;
  assert.equal(withoutDocument, 'echo: served');
  assert.deepEqual(withMetrics, {
    code: 'EASY_WS_MISSING_PACKAGE',
    message: 'EasyWs: the "metrics" option needs the package "prom-client"; install it: npm install prom-client',
  });
});
