/** What a Nest user writes with `@nestjs/platform-socket.io`: a gateway, rooms for channels. */
import { Module } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import { CHANNEL, PAYLOAD } from '../wire.js';
import { serveNest } from './harness.js';

@WebSocketGateway()
class BenchGateway {
  @WebSocketServer()
  private readonly server!: Server;

  @SubscribeMessage('echo')
  echo(@MessageBody() data: string) {
    return { event: 'echo', data };
  }

  @SubscribeMessage('listen')
  async listen(@ConnectedSocket() client: Socket) {
    await client.join(CHANNEL);
    return { event: 'listening', data: CHANNEL };
  }

  /** socket.io encodes each push once for the whole room. */
  @SubscribeMessage('burst')
  burst(@MessageBody() pushes: number) {
    for (let push = 0; push < pushes; push++) {
      this.server.to(CHANNEL).emit(CHANNEL, PAYLOAD);
    }
  }
}

@Module({ providers: [BenchGateway] })
class BenchModule {}

serveNest(BenchModule, (app) => new IoAdapter(app));
