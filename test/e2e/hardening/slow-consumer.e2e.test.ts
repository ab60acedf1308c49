import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type WebSocket from 'ws';
import { CLOSE_CODES } from 'nestjs-easy-ws';
import { ServerProcess } from '../../support/server-process.js';
import { TickListener } from '../../support/tick-listener.js';

/**
 * One client that stops reading must cost the server bounded memory and must not
 * hold up anyone else. The server runs in its own process so that its RSS is its own.
 *
 * The bound: while 50,000 frames of 1 KiB are pushed (10,000 a second, 10 MiB/s to
 * each listener), the server's RSS grows by less than 32 MiB. Without the cap
 * (maxBufferedBytes of 1 GiB) the same run grows it by 63 to 75 MiB, since the
 * stalled client's frames pile up in the server.
 */
const FRAMES = 50_000;
const FRAME_BYTES = 1024;
const BATCH = 100;
const FRAMES_PER_SECOND = 10_000;
const RSS_GROWTH_BOUND = 32 * 1024 * 1024;
/** Delivery to the clients that read: 99 % of frames within this. */
const P99_DELAY_BOUND_MS = 250;
/** And every frame within this. */
const MAX_DELAY_BOUND_MS = 1_000;

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))];
}

/** Every frame arrived, in order, promptly. */
function assertServedPromptly(listener: TickListener, label: string): void {
  assert.equal(listener.seqs.length, FRAMES, `${label}: every frame arrives`);
  assert.ok(
    listener.seqs.every((seq, index) => seq === index),
    `${label}: in order`,
  );
  const p99 = percentile(listener.delays, 0.99);
  const max = Math.max(...listener.delays);
  console.log(`# ${label}: delivery p50 ${percentile(listener.delays, 0.5)} ms, p99 ${p99} ms, max ${max} ms`);
  assert.ok(p99 <= P99_DELAY_BOUND_MS, `${label}: p99 delay ${p99} ms <= ${P99_DELAY_BOUND_MS} ms`);
  assert.ok(max <= MAX_DELAY_BOUND_MS, `${label}: max delay ${max} ms <= ${MAX_DELAY_BOUND_MS} ms`);
}

function assertRssBounded(report: { startRss: number; peakRss: number }, label: string): void {
  const growth = report.peakRss - report.startRss;
  console.log(`# ${label}: server RSS ${(report.startRss / 2 ** 20).toFixed(1)} MiB, peak +${(growth / 2 ** 20).toFixed(1)} MiB`);
  assert.ok(growth < RSS_GROWTH_BOUND, `${label}: RSS grew by ${growth} bytes, bound ${RSS_GROWTH_BOUND}`);
}

/** Every client socket, so that none (a paused one never sees the server hang up) outlives a failed test. */
const opened: WebSocket[] = [];

async function listenOn(channel: string): Promise<TickListener> {
  const listener = await TickListener.listen(server.url, channel);
  opened.push(listener.socket);
  return listener;
}
/** How many sessions have closed on the server so far. */
let closedSessions = 0;

/** Closes the clients and waits until the server has run their close hooks. */
async function closeAll(clients: TickListener[]): Promise<void> {
  for (const client of clients) {
    client.socket.close();
    await client.closed;
  }
  closedSessions += clients.length;
  await server.waitClosed(closedSessions);
}

/**
 * Pushes FRAMES frames to `channel` while `readerCount` clients read and one has
 * stopped reading; checks the bound on RSS and that every reader got every frame on time.
 */
async function pushPastAStalledListener(channel: string, readerCount: number): Promise<{ readers: TickListener[]; stalled: TickListener }> {
  const readers = await Promise.all(Array.from({ length: readerCount }, () => listenOn(channel)));
  const stalled = await listenOn(channel);
  stalled.socket.pause();

  const report = await server.push(channel, FRAMES, FRAME_BYTES, BATCH, FRAMES_PER_SECOND);
  // A reader that could not keep up would wait forever for frames dropped or a connection closed: fail at once instead.
  const { dropped } = await server.stats();
  for (const reader of readers) {
    assert.equal(dropped[reader.sessionId], 0, 'nothing was dropped for a client that reads (unless this machine starved it)');
  }
  await Promise.all(
    readers.map((reader) =>
      Promise.race([reader.received(FRAMES), reader.closed.then(({ code }) => assert.fail(`a reader was closed (${code})`))]),
    ),
  );

  assertRssBounded(report, channel);
  readers.forEach((reader, index) => assertServedPromptly(reader, `${channel} reader ${index + 1}`));
  return { readers, stalled };
}

let server: ServerProcess;
before(async () => {
  server = await ServerProcess.start();
  // Warm-up, so that the measured run starts from a server whose code paths are compiled and heap grown.
  const warm = await listenOn('news');
  await server.push('news', 5_000, FRAME_BYTES, BATCH, FRAMES_PER_SECOND);
  await warm.received(5_000);
  await closeAll([warm]);
});
after(async () => {
  opened.forEach((socket) => socket.terminate());
  assert.equal(await server.stop(), 0, 'the server process ends cleanly');
});

test('drop policy ("ticker"): a stalled listener loses frames, counted, while the others get all of them on time', { timeout: 60_000 }, async () => {
  const { readers, stalled } = await pushPastAStalledListener('ticker', 2);
  const { dropped } = await server.stats();
  const stalledDropped = dropped[stalled.sessionId];
  assert.ok(stalledDropped > 0, 'frames were dropped for the stalled client');

  // Nothing vanishes unaccounted: each frame reaches the stalled client once it reads again, or was counted as dropped.
  stalled.socket.resume();
  await stalled.received(FRAMES - stalledDropped);
  assert.equal(stalled.seqs.length + stalledDropped, FRAMES);
  assert.ok(
    stalled.seqs.every((seq, index) => index === 0 || seq > stalled.seqs[index - 1]),
    'what the stalled client gets is still in order',
  );
  console.log(`# ticker: ${stalledDropped} of ${FRAMES} frames dropped for the stalled client`);
  await closeAll([...readers, stalled]);
  assert.deepEqual(await server.stats().then(({ sessionCount, channelCount }) => ({ sessionCount, channelCount })), {
    sessionCount: 0,
    channelCount: 0,
  });
});

test('close policy ("chat", the default): a stalled listener is closed with 4000 "slow consumer" and cleaned up; the others get every frame on time', { timeout: 60_000 }, async () => {
  const sessionsBefore = (await server.stats()).sessionCount;
  const { readers, stalled } = await pushPastAStalledListener('chat', 2);
  assert.equal((await server.stats()).dropped[stalled.sessionId], 0, 'the close policy drops nothing');

  // The close frame waits behind what the client has not read; once it reads, it gets the reason.
  stalled.socket.resume();
  assert.deepEqual(await stalled.closed, { code: CLOSE_CODES.slowConsumer, reason: 'slow consumer' });
  assert.ok(stalled.seqs.length < FRAMES, 'it got the frames sent before the close, and no more');
  assert.ok(
    stalled.seqs.every((seq, index) => seq === index),
    'those in order, without a gap',
  );
  closedSessions += 1;
  await server.waitClosed(closedSessions);
  assert.equal((await server.stats()).sessionCount, sessionsBefore + readers.length, 'its session is gone, the readers are served on');
  await closeAll(readers);
});
