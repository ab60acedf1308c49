import { SetMetadata } from '@nestjs/common';
import { EASY_WS_HANDLER_METADATA } from '../handler-metadata.js';
import type { HandlerDeclaration } from '../interfaces/handler-declaration.interface.js';

/** Runs when a session opens (the Go package's `open` handler); its reply is the client's first frame. */
export const OnOpen = (): MethodDecorator => SetMetadata<string, HandlerDeclaration>(EASY_WS_HANDLER_METADATA, { kind: 'open' });

/** Runs when a session has closed, after it left every channel. */
export const OnClose = (): MethodDecorator => SetMetadata<string, HandlerDeclaration>(EASY_WS_HANDLER_METADATA, { kind: 'close' });
