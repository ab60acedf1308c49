import { SetMetadata } from '@nestjs/common';
import { EASY_WS_HANDLER_METADATA } from '../handler-metadata.js';
import type { HandlerDeclaration } from '../interfaces/handler-declaration.interface.js';
import type { HandlerDocumentation } from '../interfaces/handler-documentation.interface.js';

/**
 * Runs when a session opens (the Go package's `open` handler); its reply is the client's
 * first frame. `options` describe that reply for the AsyncAPI document and change
 * nothing at run time.
 */
export const OnOpen = (options: HandlerDocumentation = {}): MethodDecorator =>
  SetMetadata<string, HandlerDeclaration>(EASY_WS_HANDLER_METADATA, { ...options, kind: 'open' });

/** Runs when a session has closed, after it left every channel. */
export const OnClose = (): MethodDecorator => SetMetadata<string, HandlerDeclaration>(EASY_WS_HANDLER_METADATA, { kind: 'close' });
