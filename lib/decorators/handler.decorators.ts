import { SetMetadata } from '@nestjs/common';
import { EASY_WS_HANDLER_METADATA } from '../constants.js';
import type { HandlerDeclaration, ListenChannelOptions } from '../interfaces/handler-declaration.interface.js';

const declare = (declaration: HandlerDeclaration): MethodDecorator =>
  SetMetadata(EASY_WS_HANDLER_METADATA, declaration);

/**
 * Answers the client frames `<command>: <data>`. The method's return value (a
 * `Message`, nothing, a Promise of either, or an Observable of messages) is sent back.
 * The command is checked at start-up: 1 to 255 bytes, no `:`, not reserved.
 */
export const Command = (command: string): MethodDecorator => declare({ kind: 'command', command });

/**
 * Declares a channel clients may `listen` to: an exact name (`news`) or a pattern
 * whose `:param` segments each match one non-empty segment (`rooms/:room`). Guards
 * on the method decide who may listen; the method's return value, if any, is the
 * first frame the new listener gets. `options.slowConsumer` overrides, for this
 * channel's pushes, what happens to a listener that reads too slowly.
 */
export const ListenChannel = (pattern: string, options: ListenChannelOptions = {}): MethodDecorator =>
  declare({ kind: 'channel', pattern, slowConsumer: options.slowConsumer });

/** Runs when a session opens (the Go package's `open` handler); its reply is the client's first frame. */
export const OnOpen = (): MethodDecorator => declare({ kind: 'open' });

/** Runs when a session has closed, after it left every channel. */
export const OnClose = (): MethodDecorator => declare({ kind: 'close' });
