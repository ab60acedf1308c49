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

/** What every listener of a room gets when someone says something there: `said: {"room":…,"user":…,"text":…}`. */
export class SaidFrame {
  @IsString()
  room!: string;

  @IsString()
  user!: string;

  @IsString()
  text!: string;
}

/** Everything a chat client can do over the WebSocket. */
@Injectable()
export class ChatCommands {
  private readonly logger = new Logger('Chat');

  constructor(private readonly push: PushService) {}

  @OnOpen({ replies: [{ command: 'welcome', payload: { type: 'string', pattern: '^Hello [0-9a-f-]{36}$' }, summary: 'The greeting, with the session id.' }] })
  welcome(@ConnectedSocket() session: EasyWsSession) {
    return new Message('welcome', `Hello ${session.id}`);
  }

  @Command('echo', { summary: 'Sends the data back.', replies: [{ command: 'echo', payload: String }] })
  echo(@MessageBody() data: string) {
    return new Message('echo', data);
  }

  /** Says something in a room the session listens to. */
  @Command('say', { summary: 'Says something in a room the session listens to; every listener gets it.', replies: ['said'] })
  @UsePipes(new ValidationPipe({ exceptionFactory: () => new WsException('say needs {"room": name, "text": words}') }))
  async say(@MessageBody() body: SayDto, @ConnectedSocket() session: EasyWsSession) {
    const channel = `rooms/${body.room}`;
    if (!session.channels.has(channel)) {
      throw new WsException(`listen to ${channel} first`);
    }
    await this.push.toChannel(channel, new Message('said', { room: body.room, user: session.data.user, text: body.text }));
  }

  @ListenChannel('news', { summary: 'News from the server.', pushes: [{ command: 'news', payload: String }] })
  news() {}

  @ListenChannel('rooms/:room', {
    summary: 'A chat room; `staff` is for the user admin only.',
    replies: [{ command: 'joined', payload: String, summary: 'The room joined.' }],
    pushes: [{ command: 'said', payload: SaidFrame }],
  })
  @UseGuards(RoomMemberGuard)
  joined(@ChannelParam('room') room: string) {
    return new Message('joined', room);
  }

  @OnClose()
  left(@ConnectedSocket() session: EasyWsSession) {
    this.logger.log(`${session.data.user} (${session.id}) left`);
  }
}
