/**
 * The health indicator in a real application with `@nestjs/terminus`, on a Redis of the
 * test's own that the test kills and starts again: `GET /health` goes down with Redis
 * and comes back up with it, and the metrics say the same.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Controller, Get, Header } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Registry } from 'prom-client';
import { EasyWsModule, RedisBroker } from 'nestjs-easy-ws';
import { EasyWsHealthIndicator } from 'nestjs-easy-ws/health';
import { EasyWsTestClient } from 'nestjs-easy-ws/testing';
import { type RunningApp, startApp } from '../support/app.js';
import { scrape } from '../support/prometheus.js';
import { PrivateRedis } from '../support/redis-server.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { until } from '../support/until.js';

const registry = new Registry();

@Controller()
class OpsController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly websocket: EasyWsHealthIndicator,
  ) {}

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.websocket.isHealthy('websocket')]);
  }

  @Get('metrics')
  @Header('Content-Type', registry.contentType)
  metrics(): Promise<string> {
    return registry.metrics();
  }
}

let redis: PrivateRedis;
let running: RunningApp;

before(async () => {
  redis = await PrivateRedis.start();
  running = await startApp(
    {
      imports: [EasyWsModule.forRoot({ broker: new RedisBroker({ url: redis.url, commandTimeout: 500 }), metrics: { registry } }), TerminusModule],
      controllers: [OpsController],
      providers: [EasyWsHealthIndicator],
    },
    // The broker logs the outage; terminus logs the failed check.
    { logger: new RecordingLogger() },
  );
});

after(async () => {
  await running?.close();
  await redis?.kill();
});

async function health(): Promise<{ status: number; body: { status: string; details: Record<string, Record<string, unknown>> } }> {
  const response = await fetch(`http://127.0.0.1:${running.port}/health`);
  return { status: response.status, body: (await response.json()) as never };
}

test('GET /health follows Redis: up, down while it is gone, up again once it is back', { timeout: 30_000 }, async () => {
  const client = await EasyWsTestClient.connect(running.app);
  const up = await health();
  assert.equal(up.status, 200);
  assert.deepEqual(up.body.details.websocket, { status: 'up', accepting: true, brokerConnected: true, sessions: 1 });
  assert.equal((await scrape(running.port)).value('easyws_broker_connected'), 1);

  await redis.kill();
  const down = await until('GET /health to answer 503', health, (answer) => answer.status === 503);
  assert.equal(down.body.status, 'error');
  assert.deepEqual(down.body.details.websocket, { status: 'down', accepting: true, brokerConnected: false, sessions: 1 });
  assert.equal((await scrape(running.port)).value('easyws_broker_connected'), 0);

  await redis.restart();
  const again = await until('GET /health to answer 200 again', health, (answer) => answer.status === 200, 15_000);
  assert.deepEqual(again.body.details.websocket, { status: 'up', accepting: true, brokerConnected: true, sessions: 1 });
  assert.equal((await scrape(running.port)).value('easyws_broker_connected'), 1);
  await client.close();
});
