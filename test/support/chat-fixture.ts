import { type CanActivate, type ExecutionContext, Inject, Injectable, type ModuleMetadata, UseGuards } from '@nestjs/common';
import { ConnectedSocket, MessageBody, WsException } from '@nestjs/websockets';
import {
  ChannelParam,
  type ChannelRequest,
  Command,
  EasyWsModule,
  type EasyWsSession,
  ListenChannel,
  Message,
  PushService,
} from 'nestjs-easy-ws';

/** The rooms the guard refuses; a restarted application may refuse others. */
const REFUSED_ROOMS = Symbol('REFUSED_ROOMS');

@Injectable()
class RoomGuard implements CanActivate {
  constructor(@Inject(REFUSED_ROOMS) private readonly refused: ReadonlySet<string>) {}
  canActivate(context: ExecutionContext): boolean {
    return !this.refused.has(context.switchToWs().getData<ChannelRequest>().params.room);
  }
}

/** Commands and channels that answer, refuse and fail in every way the protocol names. */
@Injectable()
class Chat {
  constructor(private readonly push: PushService) {}

  @Command('echo')
  echo(@MessageBody() data: string) {
    return new Message('echo', data);
  }

  @Command('whoami')
  whoami(@ConnectedSocket() session: EasyWsSession) {
    return new Message('whoami', session.id);
  }

  @Command('refuse')
  refuse() {
    throw new WsException('no luck');
  }

  @Command('boom')
  boom() {
    throw new Error('a bug');
  }

  /** Pushes `pushed: <channel>` to the channel named by the data. */
  @Command('push')
  async pushTo(@MessageBody() channel: string) {
    await this.push.toChannel(channel, new Message('pushed', channel));
  }

  @ListenChannel('news')
  news() {}

  @ListenChannel('rooms/:room')
  @UseGuards(RoomGuard)
  joined(@ChannelParam('room') room: string) {
    return new Message('joined', room);
  }

  /** Its first frame cannot be made: a handler returns a Message or nothing. */
  @ListenChannel('broken')
  broken() {
    return 42;
  }
}

/** A chat application whose guard refuses `refusedRooms` (`rooms/<name>`). */
export function chatFixture(refusedRooms: string[] = ['staff']): ModuleMetadata {
  return {
    imports: [EasyWsModule.forRoot()],
    providers: [Chat, RoomGuard, { provide: REFUSED_ROOMS, useValue: new Set(refusedRooms) }],
  };
}
