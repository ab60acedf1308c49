/** Our module: `echo` through `@Command`, a `news` channel, and a burst of pushes through `PushService`. */
import { Injectable, Module } from '@nestjs/common';
import { MessageBody } from '@nestjs/websockets';
import { Command, EasyWsModule, ListenChannel, Message, PushService } from 'nestjs-easy-ws';
import { CHANNEL, PAYLOAD } from '../wire.js';
import { serveNest } from './harness.js';

@Injectable()
class BenchCommands {
  constructor(private readonly push: PushService) {}

  @Command('echo')
  echo(@MessageBody() data: string) {
    return new Message('echo', data);
  }

  @ListenChannel(CHANNEL)
  news() {}

  /** Pushes one message after the other, each encoded once, as an application would. */
  @Command('burst')
  async burst(@MessageBody() pushes: string) {
    for (let push = 0; push < Number(pushes); push++) {
      await this.push.toChannel(CHANNEL, new Message(CHANNEL, PAYLOAD));
    }
  }
}

@Module({ imports: [EasyWsModule.forRoot()], providers: [BenchCommands] })
class BenchModule {}

serveNest(BenchModule);
