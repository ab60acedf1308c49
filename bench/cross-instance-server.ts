/**
 * One app instance for `cross-instance.ts`, run in a process of its own (fork). It
 * serves the channel `bench` and pushes to it when the load generator asks over IPC,
 * stamping each frame with the time of the push. `BENCH_MODULE_OPTIONS` and
 * `BENCH_CHANNEL_OPTIONS` (JSON) turn a feature on, to price it.
 */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EasyWsModule, ListenChannel, Message, PushService, RedisBroker } from 'nestjs-easy-ws';
import { BENCH_CHANNEL, now, type PushRequest, type ServerReport } from './cross-instance-protocol.js';
import { flood } from './flood.js';

type ModuleOptions = NonNullable<Parameters<typeof EasyWsModule.forRoot>[0]>;
type ChannelOptions = Parameters<typeof ListenChannel>[1];
/** Options that turn a feature on, to price it next to the same pushes without (JSON; none by default). */
const moduleOptions = JSON.parse(process.env.BENCH_MODULE_OPTIONS || '{}') as ModuleOptions;
const channelOptions = JSON.parse(process.env.BENCH_CHANNEL_OPTIONS || '{}') as ChannelOptions;

@Injectable()
class BenchChannel {
  @ListenChannel(BENCH_CHANNEL, channelOptions)
  bench() {}
}

const broker = process.env.BENCH_REDIS_URL ? new RedisBroker({ url: process.env.BENCH_REDIS_URL, prefix: process.env.BENCH_PREFIX }) : undefined;

// The flood phase pushes faster than one load-generator process can read, to find the
// broker's limit; the default 1 MiB slow-consumer cap would close the listeners, which
// is the cap working, not what this benchmark measures.
@Module({ imports: [EasyWsModule.forRoot({ ...moduleOptions, broker, maxBufferedBytes: 256 * 1024 * 1024 })], providers: [BenchChannel] })
class BenchModule {}

const app = await NestFactory.create(BenchModule, { logger: ['error', 'warn'] });
app.enableShutdownHooks();
await app.listen(0, '127.0.0.1');
const pushService = app.get(PushService);

function report(message: ServerReport): void {
  process.send?.(message);
}

async function push(request: PushRequest): Promise<{ pushed: number; failed: number }> {
  const pushNow = (): Promise<void> => pushService.toChannel(BENCH_CHANNEL, new Message('tick', String(now())));
  if (request.mode === 'flood') {
    return flood(request.durationMs, request.inFlight, pushNow);
  }
  const counts = { pushed: 0, failed: 0 };
  const pushOne = (): Promise<void> =>
    pushNow().then(
      () => void counts.pushed++,
      () => void counts.failed++,
    );
  const end = now() + request.durationMs;
  const tickMs = 10;
  const perTick = Math.max(1, Math.round((request.rate * tickMs) / 1000));
  const pending: Array<Promise<void>> = [];
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (now() >= end) {
        clearInterval(timer);
        resolve();
        return;
      }
      for (let index = 0; index < perTick; index++) {
        pending.push(pushOne());
      }
    }, tickMs);
  });
  await Promise.all(pending);
  return counts;
}

process.on('message', (request: PushRequest) => {
  void push(request).then(report);
});
// The load generator ends an instance by letting go of it (or by dying).
process.once('disconnect', () => {
  void app.close().finally(() => process.exit(0));
});
report({ listening: (app.getHttpServer().address() as { port: number }).port });
