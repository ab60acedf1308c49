import { Injectable, type LoggerService } from '@nestjs/common';
import { ConnectedSocket, MessageBody } from '@nestjs/websockets';
import { Command, EasyWsModule, type EasyWsOptions, type EasyWsSession, ListenChannel, Message, OnClose, OnOpen, PushService } from 'nestjs-easy-ws';
import { type RunningApp, startApp } from './app.js';
import { TestClient } from './client.js';

/**
 * The handlers of the hardening tests: a `welcome: <session id>` on open, the commands
 * `echo`, `big` (answers with as many bytes as its data says), `shout` (pushes its data
 * to `news` and answers once the push has settled) and `forget` (starts work it does not
 * await, which fails), the channels `news`, `rooms/:room`, `ticker` (drop policy), `chat`
 * and `lobby` (presence, each member with the name its connection's `x-name` header
 * gave), and a close hook that tests can await. A connection with the header
 * `x-forget` gets an open hook that starts work it does not await, which fails.
 */
@Injectable()
export class ScenarioHandlers {
  /** The open sessions, by id. */
  readonly sessions = new Map<string, EasyWsSession>();
  /** How many close hooks have run. */
  closed = 0;
  private readonly closeWaiters = new Set<{ count: number; resolve: () => void }>();

  constructor(private readonly push: PushService) {}

  @OnOpen()
  open(@ConnectedSocket() session: EasyWsSession) {
    this.sessions.set(session.id, session);
    if (session.headers['x-forget']) {
      void failLater('the open hook forgot this');
    }
    return new Message('welcome', session.id);
  }

  /** Answers `forget: started`, and leaves behind a promise that rejects a moment later: at once, or from a timer. */
  @Command('forget')
  forget(@MessageBody() how: string) {
    if (how === 'at once') {
      void Promise.reject(new Error('forgotten at once'));
    } else {
      setTimeout(() => void failLater('forgotten in a timer'), 5);
    }
    return new Message('forget', 'started');
  }

  @OnClose()
  close(@ConnectedSocket() session: EasyWsSession) {
    this.sessions.delete(session.id);
    this.closed += 1;
    for (const waiter of this.closeWaiters) {
      if (this.closed >= waiter.count) {
        this.closeWaiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  @Command('echo')
  echo(@MessageBody() data: string | Buffer) {
    return new Message('echo', data);
  }

  /** `big: 5000000` is answered with `big: ` and 5,000,000 bytes. */
  @Command('big')
  big(@MessageBody() bytes: string) {
    return new Message('big', 'x'.repeat(Number(bytes)));
  }

  /** Pushes to `news` and answers `shouted: <data>` once every instance has it; a failed push is the handler's failure. */
  @Command('shout')
  async shout(@MessageBody() data: string) {
    await this.push.toChannel('news', new Message('news', data));
    return new Message('shouted', data);
  }

  @ListenChannel('news')
  news() {}

  @ListenChannel('rooms/:room')
  room() {}

  @ListenChannel('ticker', { slowConsumer: 'drop' })
  ticker() {}

  @ListenChannel('chat')
  chat() {}

  @ListenChannel('lobby', { presence: { info: (session) => ({ name: session.headers['x-name'] ?? null }) } })
  lobby() {}

  /** Resolves once `count` close hooks have run in all. */
  closedAtLeast(count: number): Promise<void> {
    return this.closed >= count ? Promise.resolve() : new Promise((resolve) => this.closeWaiters.add({ count, resolve }));
  }
}

/** Rejects after a turn of the event loop, as forgotten async work does. */
async function failLater(message: string): Promise<never> {
  await new Promise((resolve) => setImmediate(resolve));
  throw new Error(message);
}

/** A running app with the scenario handlers and these module options. */
export interface ScenarioApp extends RunningApp {
  readonly handlers: ScenarioHandlers;
}

/** Starts an app with the scenario handlers and `options`; it logs to `logger`, if given. */
export async function startScenarioApp(options: EasyWsOptions, logger?: LoggerService): Promise<ScenarioApp> {
  const running = await startApp({ imports: [EasyWsModule.forRoot(options)], providers: [ScenarioHandlers] }, { logger });
  return { ...running, handlers: running.app.get(ScenarioHandlers) };
}

/** Connects a `TestClient` to the scenario endpoint at `url` and reads its welcome, so that its next frame is an answer. */
export async function connectWelcomed(url: string, options: Parameters<typeof TestClient.connect>[1] = {}): Promise<TestClient> {
  const client = await TestClient.connect(url, options);
  const welcome = await client.next();
  if (!welcome.startsWith('welcome: ')) {
    throw new Error(`expected the welcome frame, got ${welcome}`);
  }
  return client;
}
