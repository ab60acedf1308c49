import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { ChannelRequest } from '../interfaces/handler-declaration.interface.js';

/**
 * Injects the value of one `:param` of a `@ListenChannel` pattern, or all of them
 * (by name) without an argument.
 */
export const ChannelParam = createParamDecorator(
  (name: string | undefined, context: ExecutionContext) => {
    const { params } = context.switchToWs().getData<ChannelRequest>();
    return name === undefined ? params : params[name];
  },
);
