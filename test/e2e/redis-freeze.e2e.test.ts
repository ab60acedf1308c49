import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import WebSocket from 'ws';
import { ACKNOWLEDGED_SUBPROTOCOL } from 'nestjs-easy-ws';
import { PrivateRedis, withConnection } from '../support/redis-server.js';
import { uniquePrefix } from '../support/relay.js';
import { ServerProcess, type SteadyPushReport } from '../support/server-process.js';
import { TickListener } from '../support/tick-listener.js';
import { until } from '../support/until.js';

/**
 * A Redis that stops answering without closing its connections (a stalled VM, a
 * failover, a full network buffer), reproduced by freezing a private redis-server with
 * SIGSTOP for longer than the brokers' command timeout, while two app instances, each
 * in its own process (so that its RSS is its own), push, take listens and accept
 * connections.
 */
const COMMAND_TIMEOUT = 300;
const FREEZE_MS = 2_500;
/** Pushes per second from each instance while Redis is frozen, of FRAME_BYTES each. */
const PUSH_RATE = 2_000;
const FRAME_BYTES = 1024;
/** A push settles within the timeout, plus the lateness of timers on a loaded machine. */
const SETTLE_BOUND_MS = COMMAND_TIMEOUT + 700;
/** What the server's RSS may grow by while it pushes into the frozen Redis (as much as pushing while Redis answers). */
const RSS_GROWTH_BOUND = 32 * 1024 * 1024;
const OUTAGE = `Redis is unavailable (no answer within ${COMMAND_TIMEOUT} ms): pushes reach this instance only until it is back`;
const BACK = 'Redis is back: pushes reach every instance again';

const prefix = uniquePrefix('freeze');
let redis: PrivateRedis;
let servers: ServerProcess[];
const sockets: WebSocket[] = [];

before(async () => {
  redis = await PrivateRedis.start();
  servers = await Promise.all([0, 1].map(() => ServerProcess.start({}, { url: redis.url, prefix, commandTimeout: COMMAND_TIMEOUT })));
});

after(async () => {
  redis?.freeze(false);
  sockets.forEach((socket) => socket.terminate());
  await Promise.all((servers ?? []).map((server) => server.stop()));
  await redis?.kill();
});

async function listener(server: ServerProcess, channel: string): Promise<TickListener> {
  const listening = await TickListener.listen(server.url, channel);
  sockets.push(listening.socket);
  return listening;
}

/** How many subscribers the private Redis counts for an app channel. */
function subscribers(channel: string): Promise<number> {
  return withConnection(redis.port, async (inspector) => ((await inspector.call('PUBSUB', 'NUMSUB', `${prefix}c:${channel}`)) as [string, number])[1]);
}

/** Opens a connection in acknowledged mode and returns how long its welcome took, and the socket. */
async function welcomed(server: ServerProcess): Promise<{ ms: number; socket: WebSocket }> {
  const started = Date.now();
  const socket = new WebSocket(server.url, [ACKNOWLEDGED_SUBPROTOCOL]);
  sockets.push(socket);
  const [welcome] = (await once(socket, 'message')) as [Buffer];
  assert.match(welcome.toString(), /^welcome: /);
  return { ms: Date.now() - started, socket };
}

/** Sends one frame and returns the answer and how long it took. */
async function answered(socket: WebSocket, frame: string): Promise<{ ms: number; answer: string }> {
  const started = Date.now();
  socket.send(frame);
  const [answer] = (await once(socket, 'message')) as [Buffer];
  return { ms: Date.now() - started, answer: answer.toString() };
}

function showReport(label: string, report: SteadyPushReport): void {
  const growth = (report.peakRss - report.startRss) / 2 ** 20;
  console.log(
    `# ${label}: ${report.made} pushes, ${report.fulfilled} fulfilled, rejected ${JSON.stringify(report.rejected)}; ` +
      `slowest settled in ${report.maxSettleMs} ms; at most ${report.maxUnsettled} unsettled; RSS +${growth.toFixed(1)} MiB`,
  );
}

test('Redis frozen for longer than the command timeout: pushes settle in time, listens and welcomes are answered, memory stays bounded, readers keep their connections', { timeout: 60_000 }, async () => {
  const [a, b] = servers;
  const readerA = await listener(a, 'news');
  const readerB = await listener(b, 'news');
  await until('both instances to subscribe news', () => subscribers('news'), (count) => count === 2);
  const talker = await welcomed(b);

  redis.freeze(true);
  const frozenAt = Date.now();
  const pushing = Promise.all([a, b].map((server) => server.pushSteadily('news', FREEZE_MS - 400, FRAME_BYTES, PUSH_RATE)));
  // Meanwhile, on both instances: a new connection, a listen, a command that awaits a push.
  const welcome = await welcomed(a);
  const listen = await answered(welcome.socket, 'listen: rooms/frozen');
  const shout = await answered(talker.socket, 'shout: anyone there?');
  const newcomer = await welcomed(b);
  const reports = await pushing;
  const answeredWhileFrozen = Date.now() - frozenAt < FREEZE_MS;
  await new Promise((resolve) => setTimeout(resolve, frozenAt + FREEZE_MS - Date.now()));
  redis.freeze(false);

  reports.forEach((report, index) => showReport(`instance ${'ab'[index]}`, report));
  console.log(`# while frozen: welcome in ${welcome.ms} ms, listen answered in ${listen.ms} ms, shout answered in ${shout.ms} ms, another welcome in ${newcomer.ms} ms`);
  assert.ok(answeredWhileFrozen, 'everything below was answered while Redis was still frozen');
  for (const report of reports) {
    assert.deepEqual(
      report.rejected,
      { [`Redis is unavailable (no answer within ${COMMAND_TIMEOUT} ms), so this channel push reached this instance only`]: report.made },
      'every push settled, as a rejection that says why',
    );
    assert.ok(report.maxSettleMs <= SETTLE_BOUND_MS, `the slowest push settled in ${report.maxSettleMs} ms`);
    assert.ok(report.maxUnsettled <= (PUSH_RATE * SETTLE_BOUND_MS) / 1000, `at most ${report.maxUnsettled} pushes waited at once: the outage is declared once, and later pushes reject at once`);
    assert.ok(report.peakRss - report.startRss < RSS_GROWTH_BOUND, `RSS grew by ${report.peakRss - report.startRss} bytes`);
  }
  for (const timing of [welcome, listen, shout, newcomer]) {
    assert.ok(timing.ms <= SETTLE_BOUND_MS, `answered in ${timing.ms} ms`);
  }
  assert.equal(listen.answer, 'websocket: {"op":"listen","channel":"rooms/frozen","ok":true}');
  assert.equal(shout.answer, 'websocket: {"op":"command","command":"shout","ok":false,"error":"internal server error"}');
  // Local delivery went on: each reader got every push of its own instance.
  assert.equal(readerA.seqs.length, reports[0].made);
  assert.equal(readerB.seqs.length, reports[1].made);

  for (const server of servers) {
    await until('Redis to be reported back', () => server.logs(), (entries) => entries.some((entry) => entry.message === BACK), 10_000);
  }
  await until('both instances to subscribe news again', () => subscribers('news'), (count) => count === 2, 10_000);
  const late = { a: readerA.seqs.length - reports[0].made, b: readerB.seqs.length - reports[1].made };
  console.log(`# pushes of the other instance that arrived after Redis resumed: ${late.a} at a, ${late.b} at b`);
  assert.deepEqual(late, { a: 0, b: 0 }, 'nothing given up was delivered late');

  // Delivery across instances resumes, and the readers were never closed.
  await b.push('news', 10, FRAME_BYTES, 10, 1000);
  await readerA.received(reports[0].made + 10);
  await a.push('news', 10, FRAME_BYTES, 10, 1000);
  await readerB.received(reports[1].made + 20);
  for (const reader of [readerA, readerB]) {
    assert.equal(reader.socket.readyState, WebSocket.OPEN);
  }
  for (const server of servers) {
    const warnings = (await server.logs()).filter((entry) => entry.level === 'warn').map((entry) => entry.message);
    assert.deepEqual(warnings, [OUTAGE], 'the outage is logged once');
    assert.equal((await server.logs()).filter((entry) => entry.message === BACK).length, 1);
  }
});

test('app.close() with Redis frozen finishes within its bound', { timeout: 30_000 }, async () => {
  const server = servers.pop() as ServerProcess;
  await listener(server, 'news');
  redis.freeze(true);
  try {
    const started = Date.now();
    assert.equal(await server.stop(), 0, 'the process ends by itself, holding no socket open');
    const ms = Date.now() - started;
    console.log(`# app.close() with Redis frozen took ${ms} ms`);
    assert.ok(ms < COMMAND_TIMEOUT * 2 + 1_000, `closed in ${ms} ms`);
  } finally {
    redis.freeze(false);
  }
});
