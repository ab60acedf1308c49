/** What a Nest user writes with `@nestjs/platform-ws`: a gateway with JSON `{event, data}` messages. */
import { Module } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import { CHANNEL, PAYLOAD } from '../wire.js';
import { serveNest } from './harness.js';

@WebSocketGateway({ path: '/ws' })
class BenchGateway {
  private readonly listeners = new Set<WebSocket>();

  @SubscribeMessage('echo')
  echo(@MessageBody() data: string) {
    return { event: 'echo', data };
  }

  @SubscribeMessage('listen')
  listen(@ConnectedSocket() client: WebSocket) {
    this.listeners.add(client);
    client.once('close', () => this.listeners.delete(client));
    return { event: 'listening', data: CHANNEL };
  }

  /** Each push is serialised once and sent to every listener. */
  @SubscribeMessage('burst')
  burst(@MessageBody() pushes: number) {
    for (let push = 0; push < pushes; push++) {
      const frame = JSON.stringify({ event: CHANNEL, data: PAYLOAD });
      for (const client of this.listeners) {
        client.send(frame);
      }
    }
  }
}

@Module({ providers: [BenchGateway] })
class BenchModule {}

serveNest(BenchModule, (app) => new WsAdapter(app));
