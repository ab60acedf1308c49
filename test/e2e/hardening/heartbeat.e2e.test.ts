import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import WebSocket from 'ws';
import { connectWelcomed, type ScenarioApp, startScenarioApp } from '../../support/scenario-handlers.js';

const HEARTBEAT_MS = 50;

let running: ScenarioApp;
before(async () => {
  running = await startScenarioApp({ heartbeatInterval: HEARTBEAT_MS });
});
after(() => running.close());

/** Resolves once `socket` has received `count` more pings. */
function pings(socket: WebSocket, count: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const onPing = () => {
      if (++seen === count) {
        socket.off('ping', onPing);
        resolve();
      }
    };
    socket.on('ping', onPing);
  });
}

test('a client that stops answering pings is dropped and its close hook runs; one that answers stays', { timeout: 10_000 }, async () => {
  const healthy = await connectWelcomed(running.url());
  // A client whose pong never comes, as a crashed peer behind a live NAT would behave.
  const silent = new WebSocket(running.url(), { autoPong: false });
  const silentPings = pings(silent, 1);
  const silentClosed = once(silent, 'close');
  await once(silent, 'open');

  await silentPings;
  const [code] = (await silentClosed) as [number];
  assert.equal(code, 1006, 'dropped without a closing handshake');
  await running.handlers.closedAtLeast(1);
  assert.equal(running.handlers.sessions.size, 1, 'only the healthy session is left');

  await pings(healthy.socket, 3);
  assert.equal(await healthy.request('echo: alive'), 'echo: alive');
  await healthy.close();
});
