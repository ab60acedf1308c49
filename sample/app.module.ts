import { Module } from '@nestjs/common';
import { EasyWsModule, RedisBroker } from 'nestjs-easy-ws';
import { ChatCommands } from './chat.commands.js';
import { PushController } from './push.controller.js';
import { RoomMemberGuard } from './room-member.guard.js';

/** A user name is the auth token here; a real app would verify a session or a JWT. */
const USER_NAME = /^[\w-]{1,32}$/;

@Module({
  imports: [
    EasyWsModule.forRoot({
      path: '/ws',
      authenticate: (token) => USER_NAME.test(token) && { user: token },
      // The cookie is sent by any page the user visits; only the sample's own page may use it.
      allowedOrigins: (origin, request) => URL.canParse(origin) && new URL(origin).host === request.headers.host,
      // With REDIS_URL set, instances of the sample share rooms and pushes (docs/scaling-out.md).
      broker: process.env.REDIS_URL ? new RedisBroker({ url: process.env.REDIS_URL }) : undefined,
      // The AsyncAPI document of the endpoint, at http://localhost:3000/ws/asyncapi.json (docs/asyncapi.md).
      asyncapi: {
        path: '/ws/asyncapi.json',
        title: 'Chat sample',
        description: 'Rooms to chat in, news from the server, and direct messages.',
        host: `localhost:${process.env.PORT ?? 3000}`,
        pushes: [{ command: 'direct', payload: String, summary: 'A direct message to one session (`POST /sessions/:id/messages`).' }],
      },
    }),
  ],
  controllers: [PushController],
  providers: [ChatCommands, RoomMemberGuard],
})
export class AppModule {}
