import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { AppModule } from '../../sample/app.module.js';
import { startApp, type RunningApp } from '../support/app.js';
import { REDIS_URL, removeKeys } from '../support/relay.js';

/** Debian's `chromium` package; `.ci/run` installs it where it is missing. */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = fileURLToPath(new URL('../../../artifacts/', import.meta.url));
/** Long enough for a reconnect under the client's default backoff, short enough to fail fast. */
const WAIT = { timeout: 15_000 };

let running: RunningApp;
let userDataDir: string;
let browser: BrowserContext;
let page: Page;

before(async () => {
  running = await startApp({ imports: [AppModule] });
  userDataDir = await mkdtemp(join(tmpdir(), 'easy-ws-chromium-'));
  browser = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  page = browser.pages()[0] ?? (await browser.newPage());
  page.on('pageerror', (error) => console.error('page error:', error));
});

after(async () => {
  await browser?.close();
  await rm(userDataDir, { recursive: true, force: true });
  await running?.close();
});

/** Waits until the chat log shows `text`. */
async function logShows(text: string): Promise<void> {
  await page.locator('#log', { hasText: text }).waitFor(WAIT);
}

/** Waits until the status line shows the client's `state`. */
async function statusIs(state: string): Promise<void> {
  await page.locator(`#status[data-state=${state}]`).waitFor(WAIT);
}

/**
 * Stops the server as a process that exits would. Chromium keeps a spare connection
 * open that has sent no request, and Node's `server.close()` waits for it until its
 * headers time out (a minute), so HTTP connections are closed first; WebSockets are
 * not among them and get the application's own close (1001, going away).
 */
async function stopServer(): Promise<void> {
  (running.app.getHttpServer() as Server).closeAllConnections();
  await running.close();
}

/** Posts into a room over HTTP, as the sample's push controller allows, through `app` (default: the running one). */
async function postToRoom(room: string, text: string, app: RunningApp = running): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${app.port}/rooms/${room}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  });
  assert.equal(response.status, 202);
}

test('the sample page chats through the client, and receives again after the server restarted', { timeout: 60_000 }, async () => {
  await page.goto(`http://127.0.0.1:${running.port}/`);
  await page.fill('#user', 'alice');
  await page.click('#login button');
  await statusIs('open');
  assert.equal(await page.textContent('#status'), 'connected');

  await page.fill('#room', 'lobby');
  await page.click('#join button');
  await logShows('* joined lobby');
  await postToRoom('lobby', 'hello from HTTP');
  await logShows('[lobby] server: hello from HTTP');

  await page.fill('#text', 'hi all');
  await page.click('#say button');
  await logShows('[lobby] alice: hi all');

  // A refused listen shows the server's notice text.
  await page.fill('#room', 'staff');
  await page.click('#join button');
  await logShows('! cannot join staff: not authorized');
  await page.fill('#room', 'lobby');

  const { port } = running;
  await stopServer();
  await statusIs('reconnecting');
  assert.match((await page.textContent('#status'))!, /^reconnecting in \d+\.\d s \(attempt \d+\)…$/);
  running = await startApp({ imports: [AppModule] }, { port });

  await statusIs('open');
  assert.equal(await page.textContent('#status'), 'connected again');
  await postToRoom('lobby', 'hello after the restart');
  await logShows('[lobby] server: hello after the restart');
  // The same page, never reloaded: what it showed before the restart is still there.
  assert.match((await page.textContent('#log'))!, /\[lobby\] server: hello from HTTP\n[^]*\[lobby\] server: hello after the restart\n/);

  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'browser-chat.png') });
});

test('with Redis, a room keeps what was said while the page\'s server was down, and shows it to a new page', { timeout: 60_000 }, async () => {
  // The sample takes its broker from REDIS_URL, for each application it makes.
  process.env.REDIS_URL = REDIS_URL;
  const room = `lobby-${process.pid}-${Date.now().toString(36)}`;
  await stopServer();
  running = await startApp({ imports: [AppModule] });
  const other = await startApp({ imports: [AppModule] });
  try {
    await page.goto(`http://127.0.0.1:${running.port}/`);
    await page.fill('#user', 'bob');
    await page.click('#login button');
    await statusIs('open');
    await page.fill('#room', room);
    await page.click('#join button');
    await logShows(`* joined ${room}`);
    await page.locator('#members li', { hasText: 'bob' }).waitFor(WAIT);
    await postToRoom(room, 'before the restart');
    await logShows(`[${room}] server: before the restart`);

    const { port } = running;
    await stopServer();
    await statusIs('reconnecting');
    await postToRoom(room, 'while you were away', other);
    running = await startApp({ imports: [AppModule] }, { port });
    await statusIs('open');
    await logShows(`* rooms/${room}: caught up on 1 missed`);
    await logShows(`[${room}] server: while you were away`);

    // A page loaded afresh, on the other instance, is shown the room's latest messages when it joins.
    await page.goto(`http://127.0.0.1:${other.port}/`);
    await page.fill('#user', 'carol');
    await page.click('#login button');
    await statusIs('open');
    await page.fill('#room', room);
    await page.click('#join button');
    await logShows(`* joined ${room}`);
    assert.match((await page.textContent('#log'))!, new RegExp(`\\[${room}\\] server: before the restart\\n\\[${room}\\] server: while you were away\\n`));
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'browser-chat-redis.png') });
  } finally {
    await other.close();
    await removeKeys(`easy-ws:{#rooms/${room}}`);
  }
});
