import type { INestApplicationContext } from '@nestjs/common';
import { resolveAsyncApiOptions } from '../asyncapi/asyncapi-options.js';
import { buildAsyncApiDocument } from '../asyncapi/document-builder.js';
import type { AsyncApiDocument } from '../asyncapi/interfaces/asyncapi-document.interface.js';
import type { AsyncApiOptions } from '../asyncapi/interfaces/asyncapi-options.interface.js';
import { HandlerTable } from '../handlers/handler-table.js';
import { withCode } from '../protocol/errors.js';
import { EASY_WS_OPTIONS, type ResolvedEasyWsOptions } from './options.js';

/**
 * Builds the AsyncAPI 3.0 document of an application's endpoint, as
 * `SwaggerModule.createDocument` builds an OpenAPI one: to write it to a file in CI,
 * say. The application must import `EasyWsModule` and be initialised (`await app.init()`;
 * it need not listen). `options` override the module's `asyncapi` options; `path` plays
 * no part here.
 * @throws Error (`EASY_WS_INVALID_ARGUMENT`) for an application without `EasyWsModule`;
 *   Error (`EASY_WS_NOT_STARTED`) before `app.init()`; Error (`EASY_WS_INVALID_DECLARATION`)
 *   for a declaration the document cannot describe; Error (`EASY_WS_MISSING_PACKAGE`) when
 *   a payload class needs `class-validator-jsonschema` and it is not installed.
 */
export async function createAsyncApiDocument(app: INestApplicationContext, options: AsyncApiOptions = {}): Promise<AsyncApiDocument> {
  let moduleOptions: ResolvedEasyWsOptions;
  let table: HandlerTable;
  try {
    moduleOptions = app.get<ResolvedEasyWsOptions>(EASY_WS_OPTIONS, { strict: false });
    table = app.get(HandlerTable, { strict: false });
  } catch (error) {
    throw withCode(new Error('createAsyncApiDocument: the application does not import EasyWsModule', { cause: error }), 'EASY_WS_INVALID_ARGUMENT');
  }
  let declared: HandlerTable['declared'];
  try {
    declared = table.declared;
  } catch (error) {
    throw withCode(
      new Error('createAsyncApiDocument: await app.init() first; the handlers are found when the modules initialise', { cause: error }),
      'EASY_WS_NOT_STARTED',
    );
  }
  return buildAsyncApiDocument({ declared, endpoint: moduleOptions, options: resolveAsyncApiOptions({ ...moduleOptions.asyncapi, ...options }) });
}
