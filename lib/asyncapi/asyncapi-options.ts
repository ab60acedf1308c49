import type { FrameDeclaration } from '../handlers/interfaces/handler-documentation.interface.js';
import { invalidOption, show } from '../utils/option-checks.js';
import type { AsyncApiOptions } from './interfaces/asyncapi-options.interface.js';

/** The AsyncAPI options with every default filled in. */
export interface ResolvedAsyncApiOptions {
  readonly path: string | undefined;
  readonly title: string;
  readonly version: string;
  readonly description: string | undefined;
  readonly host: string;
  readonly protocol: 'ws' | 'wss';
  readonly pushes: readonly FrameDeclaration[];
}

/** The defaults, as docs/asyncapi.md states them. */
export const ASYNCAPI_DEFAULTS = { title: 'WebSocket API', version: '1.0.0', host: 'localhost', protocol: 'ws' } as const;

const OWNER = 'EasyWsModule';

/**
 * Fills in the defaults and rejects values that cannot work, naming the option.
 * @throws TypeError (`EASY_WS_INVALID_OPTIONS`).
 */
export function resolveAsyncApiOptions(options: AsyncApiOptions): ResolvedAsyncApiOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalidOption(OWNER, `"asyncapi" must be an object of AsyncApiOptions, got ${show(options)}`);
  }
  const { path, description, pushes = [] } = options;
  if (path !== undefined && (typeof path !== 'string' || !path.startsWith('/'))) {
    throw invalidOption(OWNER, `"asyncapi.path" must start with "/", got ${show(path)}`);
  }
  const text = (name: 'title' | 'version' | 'host' | 'description', value: unknown, optional = false): void => {
    if (!(optional && value === undefined) && (typeof value !== 'string' || value.length === 0)) {
      throw invalidOption(OWNER, `"asyncapi.${name}" must be a non-empty string, got ${show(value)}`);
    }
  };
  const { title = ASYNCAPI_DEFAULTS.title, version = ASYNCAPI_DEFAULTS.version, host = ASYNCAPI_DEFAULTS.host, protocol = ASYNCAPI_DEFAULTS.protocol } = options;
  text('title', title);
  text('version', version);
  text('host', host);
  text('description', description, true);
  if (protocol !== 'ws' && protocol !== 'wss') {
    throw invalidOption(OWNER, `"asyncapi.protocol" must be "ws" or "wss", got ${show(protocol)}`);
  }
  if (!Array.isArray(pushes)) {
    throw invalidOption(OWNER, `"asyncapi.pushes" must be an array of frames (a command, or { command, payload }), got ${show(pushes)}`);
  }
  return { path, title, version, description, host, protocol, pushes };
}
