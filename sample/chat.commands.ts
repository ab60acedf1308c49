import { Injectable, Logger, UseGuards, UsePipes, ValidationPipe } from '@nestjs/common';
import { ConnectedSocket, MessageBody, WsException } from '@nestjs/websockets';
import { Type } from 'class-transformer';
import { IsNotEmpty, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import {
  type ChannelLeave,
  type ChannelRequest,
  ChannelSnapshot,
  Command,
  type EasyWsSession,
  LeaveChannel,
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

/** The first frame of a room: `joined: {"room":…,"recent":[…]}`, its latest messages (none for a client that recovers). */
export class JoinedFrame {
  @IsString()
  room!: string;

  @ValidateNested({ each: true })
  @Type(() => SaidFrame)
  recent!: SaidFrame[];
}

/** How many of a room's latest messages a new listener gets. */
const RECENT = 20;

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

  /**
   * A room keeps its last 100 messages for an hour: a client that loses its connection
   * gets what it missed when it comes back (docs/history.md), and a new one gets the
   * latest; it tells who is there (docs/presence.md).
   */
  @ListenChannel('rooms/:room', {
    summary: 'A chat room; `staff` is for the user admin only.',
    replies: [{ command: 'joined', payload: JoinedFrame, summary: 'The room joined, with its latest messages.' }],
    pushes: [{ command: 'said', payload: SaidFrame }],
    history: { size: 100, ttl: 3_600_000 },
    presence: { info: (session: EasyWsSession) => ({ user: session.data.user }) },
  })
  @UseGuards(RoomMemberGuard)
  async joined(@MessageBody() { channel, params, since }: ChannelRequest) {
    if (since) {
      return new Message('joined', { room: params.room, recent: [] }); // it gets the messages it missed instead
    }
    const { position, messages } = await this.push.history(channel, { limit: RECENT });
    const recent = messages.map(({ message }) => JSON.parse(message.text) as SaidFrame);
    return new ChannelSnapshot(new Message('joined', { room: params.room, recent }), position);
  }

  @LeaveChannel('rooms/:room')
  leftRoom(@MessageBody() { channel, reason }: ChannelLeave, @ConnectedSocket() session: EasyWsSession) {
    this.logger.log(`${session.data.user} left ${channel} (${reason})`);
  }

  @OnClose()
  left(@ConnectedSocket() session: EasyWsSession) {
    this.logger.log(`${session.data.user} (${session.id}) left`);
  }
}
