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
import { EasyWsModule, type EasyWsOptions, Message, PushService, SessionRegistry } from 'nestjs-easy-ws';
import { ScenarioHandlers } from './scenario-handlers.js';
import type { ScenarioReply, ScenarioRequest } from './server-process.js';

const options = JSON.parse(process.argv[2] ?? '{}') as EasyWsOptions;

@Module({ imports: [EasyWsModule.forRoot(options)], providers: [ScenarioHandlers] })
class ScenarioModule {}

const app = await NestFactory.create(ScenarioModule, { logger: false });
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
      };
    case 'push':
      return pushFrames(request.channel, request.count, request.size, request.batch, request.perSecond);
    case 'waitClosed':
      return handlers.closedAtLeast(request.count);
    case 'close':
      await app.close();
      return undefined;
  }
}

process.on('message', (request: ScenarioRequest) => {
  answer(request).then(
    (result) => process.send?.({ id: request.id, result } satisfies ScenarioReply),
    (error: Error) => process.send?.({ id: request.id, error: error.stack ?? String(error) } satisfies ScenarioReply),
  );
});
process.send?.({ id: 0, result: (app.getHttpServer().address() as AddressInfo).port } satisfies ScenarioReply);
