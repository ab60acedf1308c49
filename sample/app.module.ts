import { Module } from '@nestjs/common';
import { JwtModule, JwtService } from '@nestjs/jwt';
import { TerminusModule } from '@nestjs/terminus';
import { Registry } from 'prom-client';
import { EasyWsModule, RedisBroker } from 'nestjs-easy-ws';
import { EasyWsHealthIndicator } from 'nestjs-easy-ws/health';
import { AuthController, type ChatClaims, TOKEN_SECONDS } from './auth.controller.js';
import { ChatCommands } from './chat.commands.js';
import { MetricsRegistryModule } from './metrics-registry.module.js';
import { ObservabilityController } from './observability.controller.js';
import { PushController } from './push.controller.js';
import { RoomMemberGuard } from './room-member.guard.js';

@Module({
  imports: [
    // Instances that share a Redis must share the secret too: set JWT_SECRET.
    JwtModule.register({ global: true, secret: process.env.JWT_SECRET ?? 'the sample secret', signOptions: { expiresIn: TOKEN_SECONDS } }),
    MetricsRegistryModule,
    EasyWsModule.forRootAsync({
      imports: [MetricsRegistryModule],
      inject: [JwtService, Registry],
      useFactory: (jwt: JwtService, registry: Registry) => ({
        path: '/ws',
        // The token is a JWT from POST /auth/token, in the auth cookie. Its sub is the session's user,
        // its exp when the session ends unless the page refreshes it (docs/authentication.md).
        authenticate: (token: string) => jwt.verifyAsync<ChatClaims & { exp: number }>(token).catch(() => false),
        // The cookie is sent by any page the user visits; only the sample's own page may use it.
        allowedOrigins: (origin, request) => URL.canParse(origin) && new URL(origin).host === request.headers.host,
        // With REDIS_URL set, instances of the sample share rooms, pushes, history and presence (docs/scaling-out.md).
        broker: process.env.REDIS_URL ? new RedisBroker({ url: process.env.REDIS_URL }) : undefined,
        // Prometheus metrics on the application's registry, served at /metrics (docs/observability.md).
        metrics: { registry },
        // The AsyncAPI document of the endpoint, at http://localhost:3000/ws/asyncapi.json (docs/asyncapi.md).
        asyncapi: {
          path: '/ws/asyncapi.json',
          title: 'Chat sample',
          description: 'Rooms to chat in, with their recent messages and who is there; news from the server; direct messages.',
          host: `localhost:${process.env.PORT ?? 3000}`,
          pushes: [{ command: 'direct', payload: String, summary: 'A direct message to one session (`POST /sessions/:id/messages`).' }],
        },
      }),
    }),
    TerminusModule,
  ],
  controllers: [AuthController, PushController, ObservabilityController],
  providers: [ChatCommands, RoomMemberGuard, EasyWsHealthIndicator],
})
export class AppModule {}
