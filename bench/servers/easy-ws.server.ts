/**
 * Our module: `echo` through `@Command`, a `news` channel, and a burst of pushes through
 * `PushService`. `--module-options JSON` and `--channel-options JSON` go to
 * `EasyWsModule.forRoot()` and to the channel's `@ListenChannel()`, so that the bench can
 * run the same server with a feature on (a heartbeat interval, a channel option) next to
 * it without.
 */
import { parseArgs } from 'node:util';
import { Injectable, Module } from '@nestjs/common';
import { MessageBody } from '@nestjs/websockets';
import { Command, EasyWsModule, ListenChannel, Message, PushService } from 'nestjs-easy-ws';
import { CHANNEL, PAYLOAD } from '../wire.js';
import { serveNest } from './harness.js';

const { values } = parseArgs({ options: { 'module-options': { type: 'string' }, 'channel-options': { type: 'string' } } });
type ModuleOptions = Parameters<typeof EasyWsModule.forRoot>[0];
type ChannelOptions = Parameters<typeof ListenChannel>[1];
const moduleOptions = JSON.parse(values['module-options'] ?? '{}') as ModuleOptions;
const channelOptions = JSON.parse(values['channel-options'] ?? '{}') as ChannelOptions;

@Injectable()
class BenchCommands {
  constructor(private readonly push: PushService) {}

  @Command('echo')
  echo(@MessageBody() data: string) {
    return new Message('echo', data);
  }

  @ListenChannel(CHANNEL, channelOptions)
  news() {}

  /** Pushes one message after the other, each encoded once, as an application would. */
  @Command('burst')
  async burst(@MessageBody() pushes: string) {
    for (let push = 0; push < Number(pushes); push++) {
      await this.push.toChannel(CHANNEL, new Message(CHANNEL, PAYLOAD));
    }
  }
}

@Module({ imports: [EasyWsModule.forRoot(moduleOptions)], providers: [BenchCommands] })
class BenchModule {}

serveNest(BenchModule);
