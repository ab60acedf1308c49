import type { FrameDeclaration } from '../../handlers/interfaces/handler-documentation.interface.js';

/**
 * The AsyncAPI document of the endpoint: whether it is served, and what it says beyond
 * what the decorators declare. Every one has a default.
 */
export interface AsyncApiOptions {
  /**
   * Serves the document as JSON (`GET`) at this path of the application's HTTP server,
   * as `SwaggerModule.setup` serves an OpenAPI document; the global prefix does not
   * apply. Default: not served (`createAsyncApiDocument` builds it all the same).
   */
  path?: string;
  /** The title of the API. Default `'WebSocket API'`. */
  title?: string;
  /** The version of the API (not of the library or the protocol). Default `'1.0.0'`. */
  version?: string;
  /** A description of the API; CommonMark is allowed. */
  description?: string;
  /** The host (and port) clients connect to, such as `'chat.example.com'`. Default `'localhost'`. */
  host?: string;
  /** `'wss'` behind TLS, else `'ws'`. Default `'ws'`. */
  protocol?: 'ws' | 'wss';
  /**
   * Frames the application pushes outside channels: to one session (`PushService.toSession`)
   * or to everyone (`PushService.broadcast`).
   */
  pushes?: readonly FrameDeclaration[];
}
