import { Injectable, Logger, UseGuards, UsePipes, ValidationPipe } from '@nestjs/common';
import { ConnectedSocket, MessageBody, WsException } from '@nestjs/websockets';
import { IsNotEmpty, IsString, Matches, MaxLength } from 'class-validator';
import {
  ChannelParam,
  Command,
  type EasyWsSession,
  ListenChannel,
  Message,
  OnClose,
  OnOpen,
  PushService,
} from 'nestjs-easy-ws';
import { RoomMemberGuard } from './room-member.guard.js';

/** The JSON body of `say: {"room":"lobby","text":"hi"}`. */
export class SayDto {
  @IsString()
  @Matches(/^[\w-]{1,32}$/)
  room!: string;

  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  text!: string;
}

/** Everything a chat client can do over the WebSocket. */
@Injectable()
export class ChatCommands {
  private readonly logger = new Logger('Chat');

  constructor(private readonly push: PushService) {}

  @OnOpen()
  welcome(@ConnectedSocket() session: EasyWsSession) {
    return new Message('welcome', `Hello ${session.id}`);
  }

  @Command('echo')
  echo(@MessageBody() data: string) {
    return new Message('echo', data);
  }

  /** Says something in a room the session listens to. */
  @Command('say')
  @UsePipes(new ValidationPipe({ exceptionFactory: () => new WsException('say needs {"room": name, "text": words}') }))
  async say(@MessageBody() body: SayDto, @ConnectedSocket() session: EasyWsSession) {
    const channel = `rooms/${body.room}`;
    if (!session.channels.has(channel)) {
      throw new WsException(`listen to ${channel} first`);
    }
    await this.push.toChannel(channel, new Message('said', { room: body.room, user: session.data.user, text: body.text }));
  }

  @ListenChannel('news')
  news() {}

  @ListenChannel('rooms/:room')
  @UseGuards(RoomMemberGuard)
  joined(@ChannelParam('room') room: string) {
    return new Message('joined', room);
  }

  @OnClose()
  left(@ConnectedSocket() session: EasyWsSession) {
    this.logger.log(`${session.data.user} (${session.id}) left`);
  }
}
