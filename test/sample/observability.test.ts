// The sample's /metrics and /health, as an operator's scraper and load balancer see them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { JwtService } from '@nestjs/jwt';
import { EasyWsTestClient } from 'nestjs-easy-ws/testing';
import { AppModule } from '../../sample/app.module.js';
import { type RunningApp, startApp } from '../support/app.js';
import { scrape } from '../support/prometheus.js';

let running: RunningApp;

before(async () => {
  running = await startApp({ imports: [AppModule] });
});

after(() => running.close());

test('the sample serves its metrics, the WebSocket ones beside Node\'s, and its health', async () => {
  const alice = await EasyWsTestClient.connect(running.app, { token: running.app.get(JwtService).sign({ sub: 'alice', user: 'alice' }) });
  await alice.listen('rooms/lobby');
  alice.send('echo', 'hi');
  await alice.expectFrame('echo');

  const scraped = await scrape(running.port);
  assert.equal(scraped.value('easyws_connections'), 1);
  assert.equal(scraped.value('easyws_channel_listeners'), 1);
  assert.equal(scraped.value('easyws_frames_received_total', { command: 'echo' }), 1);
  assert.equal(scraped.value('easyws_handler_duration_seconds_count', { command: 'echo' }), 1);
  assert.ok(scraped.value('process_cpu_user_seconds_total') > 0, "Node's default metrics are there too");

  const response = await fetch(`http://127.0.0.1:${running.port}/health`);
  assert.equal(response.status, 200);
  assert.deepEqual(((await response.json()) as { details: unknown }).details, {
    websocket: { status: 'up', accepting: true, brokerConnected: true, sessions: 1 },
  });
  await alice.close();
});
