/**
 * A server in its own process, for tests that measure the server alone (its RSS,
 * its heap after GC) or must see it survive: `ServerProcess` starts it with the
 * module options as JSON in argv and drives it over IPC.
 */
import 'reflect-metadata';
import { setTimeout as delay, setImmediate as nextTurn } from 'node:timers/promises';
import type { AddressInfo } from 'node:net';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EasyWsModule, type EasyWsOptions, Message, PushService, RedisBroker, SessionRegistry } from 'nestjs-easy-ws';
import { RecordingLogger } from './recording-logger.js';
import { ScenarioHandlers } from './scenario-handlers.js';
import type { RedisBrokerSettings, ScenarioReply, ScenarioRequest, SteadyPushReport } from './server-process.js';

const options = JSON.parse(process.argv[2] ?? '{}') as EasyWsOptions;
const redis = JSON.parse(process.argv[3] ?? 'null') as RedisBrokerSettings | null;
const logger = new RecordingLogger();

@Module({
  imports: [EasyWsModule.forRoot({ ...options, ...(redis && { broker: new RedisBroker({ ...redis, logger }) }) })],
  providers: [ScenarioHandlers],
})
class ScenarioModule {}

// Kept where a test counts log lines (of outages, of stray rejections); otherwise, as in measurements of the heap, nothing is.
const app = await NestFactory.create(ScenarioModule, { logger: redis || options.catchStrayRejections ? logger : false });
await app.listen(0, '127.0.0.1');
const handlers = app.get(ScenarioHandlers);
const registry = app.get(SessionRegistry);
const push = app.get(PushService);
const gc = (globalThis as { gc?: () => void }).gc;

async function heapAfterGc(): Promise<number | undefined> {
  if (!gc) {
    return undefined;
  }
  for (let round = 0; round < 3; round++) {
    gc();
    await nextTurn();
  }
  return process.memoryUsage().heapUsed;
}

/**
 * Pushes `count` frames of about `size` bytes, each stamped with its number and send
 * time, `batch` per event-loop turn and at most `perSecond` per second.
 */
async function pushFrames(channel: string, count: number, size: number, batch: number, perSecond: number) {
  const padding = 'x'.repeat(size);
  const startRss = process.memoryUsage.rss();
  let peakRss = startRss;
  const started = Date.now();
  for (let seq = 0; seq < count; seq++) {
    await push.toChannel(channel, new Message('tick', `${seq} ${Date.now()} ${padding}`));
    if ((seq + 1) % batch === 0) {
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      const ahead = started + ((seq + 1) * 1000) / perSecond - Date.now();
      await (ahead > 0 ? delay(ahead) : nextTurn());
    }
  }
  return { startRss, peakRss: Math.max(peakRss, process.memoryUsage.rss()), ms: Date.now() - started };
}

/** See `ServerProcess.pushSteadily`. */
async function pushSteadily(channel: string, ms: number, size: number, perSecond: number): Promise<SteadyPushReport> {
  const padding = 'x'.repeat(size);
  const report: SteadyPushReport = { made: 0, fulfilled: 0, rejected: {}, maxSettleMs: 0, maxUnsettled: 0, startRss: process.memoryUsage.rss(), peakRss: 0, ms };
  report.peakRss = report.startRss;
  const settling: Array<Promise<void>> = [];
  let unsettled = 0;
  const started = Date.now();
  while (Date.now() - started < ms) {
    const due = Math.floor(((Date.now() - started) * perSecond) / 1000);
    for (; report.made < due; report.made++) {
      const madeAt = Date.now();
      unsettled += 1;
      report.maxUnsettled = Math.max(report.maxUnsettled, unsettled);
      const settled = () => {
        unsettled -= 1;
        report.maxSettleMs = Math.max(report.maxSettleMs, Date.now() - madeAt);
      };
      settling.push(
        push.toChannel(channel, new Message('tick', `${report.made} ${madeAt} ${padding}`)).then(
          () => {
            settled();
            report.fulfilled += 1;
          },
          (error: Error) => {
            settled();
            report.rejected[error.message] = (report.rejected[error.message] ?? 0) + 1;
          },
        ),
      );
    }
    report.peakRss = Math.max(report.peakRss, process.memoryUsage.rss());
    await delay(5);
  }
  await Promise.all(settling);
  report.peakRss = Math.max(report.peakRss, process.memoryUsage.rss());
  return report;
}

async function answer(request: ScenarioRequest): Promise<unknown> {
  switch (request.type) {
    case 'stats':
      return {
        sessionCount: registry.sessionCount,
        channelCount: registry.channelCount,
        closed: handlers.closed,
        rss: process.memoryUsage.rss(),
        heapUsed: await heapAfterGc(),
        dropped: Object.fromEntries([...handlers.sessions].map(([id, session]) => [id, session.droppedFrames])),
        open: Object.fromEntries([...handlers.sessions].map(([id, session]) => [id, session.isOpen])),
        rejectionListeners: process.listenerCount('unhandledRejection'),
      };
    case 'push':
      return pushFrames(request.channel, request.count, request.size, request.batch, request.perSecond);
    case 'pushSteadily':
      return pushSteadily(request.channel, request.ms, request.size, request.perSecond);
    case 'logs':
      return logger.entries;
    case 'waitClosed':
      return handlers.closedAtLeast(request.count);
    case 'rejectOutside':
      void Promise.reject(new Error('rejected outside any handler'));
      return undefined;
    case 'close':
      await app.close();
      return { rejectionListeners: process.listenerCount('unhandledRejection') };
  }
}

process.on('message', (request: ScenarioRequest) => {
  answer(request).then(
    (result) => process.send?.({ id: request.id, result } satisfies ScenarioReply),
    (error: Error) => process.send?.({ id: request.id, error: error.stack ?? String(error) } satisfies ScenarioReply),
  );
});
process.send?.({ id: 0, result: (app.getHttpServer().address() as AddressInfo).port } satisfies ScenarioReply);
