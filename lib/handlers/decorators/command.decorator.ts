import { SetMetadata } from '@nestjs/common';
import { EASY_WS_HANDLER_METADATA } from '../handler-metadata.js';
import type { HandlerDeclaration } from '../interfaces/handler-declaration.interface.js';
import type { HandlerDocumentation } from '../interfaces/handler-documentation.interface.js';

/**
 * Answers the client frames `<command>: <data>`. The method's return value (a
 * `Message`, nothing, a Promise of either, or an Observable of messages) is sent back.
 * The command is checked at start-up: 1 to 255 bytes, no `:`, not reserved.
 * `options` describe the command for the AsyncAPI document (its replies, a summary)
 * and change nothing at run time.
 */
export const Command = (command: string, options: HandlerDocumentation = {}): MethodDecorator =>
  SetMetadata<string, HandlerDeclaration>(EASY_WS_HANDLER_METADATA, { ...options, kind: 'command', command });
