import { SetMetadata } from '@nestjs/common';
import { EASY_WS_HANDLER_METADATA } from '../handler-metadata.js';
import type { HandlerDeclaration } from '../interfaces/handler-declaration.interface.js';

/**
 * Runs when a session leaves a channel declared with `@ListenChannel(pattern)`: the
 * counterpart of the listen method, for any application logic (and for clients of the
 * original protocol, which see no presence events). It receives a `ChannelLeave` (the
 * channel, its params and the reason) as `@MessageBody()`, and `@ChannelParam()` works;
 * it runs on the instance that held the session, once per leave, whatever the reason.
 * The pattern must be one that a `@ListenChannel` declares.
 */
export const LeaveChannel = (pattern: string): MethodDecorator =>
  SetMetadata<string, HandlerDeclaration>(EASY_WS_HANDLER_METADATA, { kind: 'leave', pattern });
