import { SetMetadata } from '@nestjs/common';
import { EASY_WS_HANDLER_METADATA } from '../handler-metadata.js';
import type { HandlerDeclaration, ListenChannelOptions } from '../interfaces/handler-declaration.interface.js';

/**
 * Declares a channel clients may `listen` to: an exact name (`news`) or a pattern
 * whose `:param` segments each match one non-empty segment (`rooms/:room`). Guards
 * on the method decide who may listen; the method's return value, if any, is the
 * first frame the new listener gets (a `ChannelSnapshot` when it was built from the
 * channel's history). `options.slowConsumer` overrides, for this channel's pushes,
 * what happens to a listener that reads too slowly; `options.history` keeps its pushes
 * for clients to recover, `options.presence` tells who is in it; `replies`, `pushes`,
 * `summary` and `description` describe the channel for the AsyncAPI document and
 * change nothing at run time.
 */
export const ListenChannel = (pattern: string, options: ListenChannelOptions = {}): MethodDecorator =>
  SetMetadata<string, HandlerDeclaration>(EASY_WS_HANDLER_METADATA, { ...options, kind: 'channel', pattern });
