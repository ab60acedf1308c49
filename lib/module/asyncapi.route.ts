import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { buildAsyncApiDocument } from '../asyncapi/document-builder.js';
import { HandlerTable } from '../handlers/handler-table.js';
import { EASY_WS_OPTIONS, type ResolvedEasyWsOptions } from './options.js';

/**
 * Serves the AsyncAPI document at `asyncapi.path`, when that is set, as
 * `SwaggerModule.setup` serves an OpenAPI document: a `GET` route on the application's
 * HTTP adapter. Without the option nothing is registered and nothing is built.
 */
@Injectable()
export class AsyncApiRoute implements OnModuleInit, OnApplicationBootstrap {
  /** The document as JSON, built once: the handlers are fixed from module init on. */
  private json: string | undefined;

  constructor(
    @Inject(EASY_WS_OPTIONS) private readonly options: ResolvedEasyWsOptions,
    private readonly table: HandlerTable,
    private readonly httpAdapterHost: HttpAdapterHost,
  ) {}

  /**
   * Registered on module init, not at bootstrap: Nest adds its 404 handler between the
   * two, and Express would never reach a route added after it. The document itself is
   * built at bootstrap, once every handler is known.
   */
  onModuleInit(): void {
    const path = this.options.asyncapi?.path;
    const { httpAdapter } = this.httpAdapterHost;
    // Without an HTTP adapter there is no endpoint either, and EasyWsServer says so at bootstrap.
    if (path === undefined || !httpAdapter) {
      return;
    }
    httpAdapter.get(path, (_request: unknown, response: unknown) => {
      httpAdapter.setHeader(response, 'Content-Type', 'application/json; charset=utf-8');
      httpAdapter.reply(response, this.json, 200);
    });
  }

  /** Builds the document, so that a declaration it cannot describe, or a missing package, stops start-up. */
  async onApplicationBootstrap(): Promise<void> {
    const { asyncapi } = this.options;
    if (asyncapi?.path !== undefined) {
      this.json = JSON.stringify(await buildAsyncApiDocument({ declared: this.table.declared, endpoint: this.options, options: asyncapi }));
    }
  }
}
