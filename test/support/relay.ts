import { Body, Controller, HttpCode, Injectable, Post } from '@nestjs/common';
import { ConnectedSocket, MessageBody } from '@nestjs/websockets';
import {
  ACKNOWLEDGED_SUBPROTOCOL,
  Command,
  EasyWsModule,
  type EasyWsSession,
  ListenChannel,
  Message,
  OnOpen,
  PushService,
  RedisBroker,
  type RedisBrokerOptions,
  RedisUnavailableError,
} from 'nestjs-easy-ws';
import { Redis } from 'ioredis';
import { startApp, type RunningApp } from './app.js';
import { TestClient } from './client.js';

/** The Redis the tests use. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A Redis channel prefix of its own for each test run, so that runs sharing a Redis cannot collide. */
export function uniquePrefix(name: string): string {
  return `easy-ws-test:${name}:${process.pid}-${Date.now().toString(36)}:`;
}

/** Deletes every key of `prefix` from the Redis the tests use, so that a run leaves nothing behind. */
export async function removeKeys(prefix: string, url = REDIS_URL): Promise<void> {
  const redis = new Redis(url);
  try {
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1000 }) as AsyncIterable<string[]>) {
      if (keys.length > 0) {
        await redis.del(...keys);
      }
    }
  } finally {
    redis.disconnect();
  }
}

/** One `PushService` call, as the test asks an instance to make it. */
export type PushRequest =
  | { op: 'toChannel'; channel: string; command: string; data: string; binary?: boolean }
  | { op: 'toSession'; sessionId: string; command: string; data: string }
  | { op: 'broadcast'; command: string; data: string }
  | { op: 'subscribe' | 'unsubscribe'; sessionId: string; channel: string }
  | { op: 'disconnect'; sessionId: string; code?: number; reason?: string };

/** What `POST /push` answers: where the push went. */
export interface PushOutcome {
  reached: 'every instance' | 'this instance only';
  error?: string;
}

/** Pushes over HTTP, as an application's own controller would, so the pusher is not a session. */
@Controller('push')
class PushController {
  constructor(private readonly push: PushService) {}

  @Post()
  @HttpCode(200)
  async run(@Body() request: PushRequest): Promise<PushOutcome> {
    try {
      await this.perform(request);
      return { reached: 'every instance' };
    } catch (error) {
      if (error instanceof RedisUnavailableError) {
        return { reached: 'this instance only', error: error.message };
      }
      throw error;
    }
  }

  private perform(request: PushRequest): Promise<void> {
    switch (request.op) {
      case 'toChannel': {
        const data = request.binary ? Buffer.from(request.data) : request.data;
        return this.push.toChannel(request.channel, new Message(request.command, data));
      }
      case 'toSession':
        return this.push.toSession(request.sessionId, new Message(request.command, request.data));
      case 'broadcast':
        return this.push.broadcast(new Message(request.command, request.data));
      case 'subscribe':
        return this.push.subscribe(request.sessionId, request.channel);
      case 'unsubscribe':
        return this.push.unsubscribe(request.sessionId, request.channel);
      case 'disconnect':
        return this.push.disconnect(request.sessionId, request.code, request.reason);
    }
  }
}

/** Tells each client its session id, answers `echo`, and offers two kinds of channel. */
@Injectable()
class Relay {
  @OnOpen()
  welcome(@ConnectedSocket() session: EasyWsSession) {
    return new Message('welcome', session.id);
  }

  @Command('echo')
  echo(@MessageBody() data: string) {
    return new Message('echo', data);
  }

  @ListenChannel('news')
  news() {}

  @ListenChannel('rooms/:room')
  room() {}
}

/**
 * Starts one instance of the relay application with a `RedisBroker`, configured
 * through `forRoot` or, as options built by a factory, `forRootAsync`.
 */
export function startRelay(broker: RedisBrokerOptions, configure: 'forRoot' | 'forRootAsync' = 'forRoot'): Promise<RunningApp> {
  const module =
    configure === 'forRoot'
      ? EasyWsModule.forRoot({ broker: new RedisBroker(broker) })
      : EasyWsModule.forRootAsync({ useFactory: async () => ({ broker: new RedisBroker(broker) }) });
  return startApp({ imports: [module], controllers: [PushController], providers: [Relay] });
}

/** A client of `app` in acknowledged mode, with the session id its welcome frame told. */
export async function join(app: RunningApp): Promise<{ client: TestClient; id: string }> {
  const client = await TestClient.connect(app.url(), { protocols: [ACKNOWLEDGED_SUBPROTOCOL] });
  const welcome = await client.next();
  const id = welcome.replace(/^welcome: /, '');
  if (id === welcome) {
    throw new Error(`expected a welcome frame, got ${welcome}`);
  }
  return { client, id };
}

/** Asks `app` to make one push, and returns where it went. */
export async function pushVia(app: RunningApp, request: PushRequest): Promise<PushOutcome> {
  const response = await fetch(`http://127.0.0.1:${app.port}/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  if (response.status !== 200) {
    throw new Error(`POST /push answered ${response.status}: ${await response.text()}`);
  }
  return (await response.json()) as PushOutcome;
}

/** Sends `listen` in acknowledged mode and checks that it was accepted. */
export async function listen(client: TestClient, channel: string): Promise<void> {
  const answer = await client.request(`listen: ${channel}`);
  if (answer !== `websocket: {"op":"listen","channel":"${channel}","ok":true}`) {
    throw new Error(`listen ${channel} was answered with ${answer}`);
  }
}
