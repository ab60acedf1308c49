import { Injectable } from '@nestjs/common';
import { MessageBody } from '@nestjs/websockets';
import { type ChannelRequest, ChannelSnapshot, Command, ListenChannel, Message, PushService } from 'nestjs-easy-ws';
import { EasyWsClient } from 'nestjs-easy-ws/client';
import WebSocket from 'ws';
import { nextEvent, range } from './received.js';
import type { TcpProxy } from './tcp-proxy.js';

/** How long the fixture's channels keep their frames: longer than any test runs. */
export const TTL = 600_000;

/**
 * Channels with history: `rooms/:room` (100 frames), `live/:id` (5000), `ticks/:id` (1000,
 * dropped for slow readers), `pages/:room` (whose listen answers with a snapshot of the
 * last five), and `plain` without history; `ping` answers `pong`.
 */
@Injectable()
export class Rooms {
  constructor(private readonly push: PushService) {}

  @ListenChannel('rooms/:room', { history: { size: 100, ttl: TTL } })
  room() {}

  @ListenChannel('live/:id', { history: { size: 5000, ttl: TTL } })
  live() {}

  @ListenChannel('ticks/:id', { history: { size: 1000, ttl: TTL }, slowConsumer: 'drop' })
  ticks() {}

  /** The last five numbers pushed, as a snapshot the stream goes on from. */
  @ListenChannel('pages/:room', { history: { size: 100, ttl: TTL } })
  async page(@MessageBody() { channel }: ChannelRequest) {
    const page = await this.push.history(channel, { limit: 5 });
    return new ChannelSnapshot(new Message('recent', page.messages.map(({ message }) => Number(message.text.split(' ')[0]))), page.position);
  }

  @ListenChannel('plain')
  plain() {}

  @Command('ping')
  ping() {
    return new Message('pong');
  }
}

/** Pushes `said: <n>` for every n from `from` to `to`, one after the other. */
export async function pushRange(push: PushService, channel: string, from: number, to: number, padding = ''): Promise<void> {
  for (const n of range(from, to)) {
    await push.toChannel(channel, new Message('said', padding ? `${n} ${padding}` : String(n)));
  }
}

/** A client through `proxy` that reconnects within milliseconds. */
export function clientThrough(proxy: TcpProxy): EasyWsClient {
  return new EasyWsClient(proxy.url(), { WebSocket, reconnect: { minDelay: 20, maxDelay: 60 } });
}

/** Cuts the client's connection and keeps it from reconnecting until `reconnect` is called. */
export async function cutOff(client: EasyWsClient, proxy: TcpProxy): Promise<void> {
  proxy.refuse(true);
  const closed = nextEvent(client, 'close');
  proxy.cut();
  await closed;
}
