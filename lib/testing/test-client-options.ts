import { ACKNOWLEDGED_SUBPROTOCOL } from '../protocol/rules.js';
import { invalidOption, wholeNumber } from '../utils/option-checks.js';

/** How `EasyWsTestClient.connect` opens its connection. Every one has a default. */
export interface TestClientOptions {
  /**
   * The auth token, put where the application's `token` option reads it (its cookie,
   * header or query parameter). An application that reads it with a function needs
   * `cookies`, `headers` or `query` instead.
   */
  token?: string;
  /** Cookies of the upgrade request, by name; values are URL-encoded. */
  cookies?: Readonly<Record<string, string>>;
  /** Headers of the upgrade request (`Origin`, `Authorization`, …). */
  headers?: Readonly<Record<string, string>>;
  /** Query parameters of the endpoint's URL. */
  query?: Readonly<Record<string, string>>;
  /**
   * The subprotocols to offer. Default `['easy-ws.v1']`, acknowledged mode, in which
   * `listen` and `unlisten` are answered; `['cmd.fossores.de']` or `[]` for the original protocol.
   */
  protocols?: readonly string[];
  /** The endpoint's path. Default: the `path` of the application's `EasyWsModule`. */
  path?: string;
  /** How long, in milliseconds, the handshake and each expectation may take. Default 2000. */
  timeout?: number;
}

/** The test client's options with every default filled in. */
export interface ResolvedTestClientOptions extends Required<Omit<TestClientOptions, 'token' | 'path'>> {
  readonly token: string | undefined;
  readonly path: string | undefined;
}

const OWNER = 'EasyWsTestClient';

/** The default of `timeout`: within the 5 s a test runner gives a test by default. */
export const DEFAULT_TEST_TIMEOUT = 2000;

/**
 * Fills in the defaults and rejects options that cannot work.
 * @throws TypeError (`EASY_WS_INVALID_OPTIONS`) naming the option.
 */
export function resolveTestClientOptions(options: TestClientOptions): ResolvedTestClientOptions {
  const { token, path, cookies = {}, headers = {}, query = {}, protocols = [ACKNOWLEDGED_SUBPROTOCOL], timeout = DEFAULT_TEST_TIMEOUT } = options;
  if (token !== undefined && typeof token !== 'string') {
    throw invalidOption(OWNER, '"token" must be a string');
  }
  if (path !== undefined && (typeof path !== 'string' || !path.startsWith('/'))) {
    throw invalidOption(OWNER, `"path" must start with "/", got ${JSON.stringify(path)}`);
  }
  if (!Array.isArray(protocols) || protocols.some((protocol) => typeof protocol !== 'string')) {
    throw invalidOption(OWNER, '"protocols" must be an array of subprotocol names');
  }
  return { token, path, cookies, headers, query, protocols, timeout: wholeNumber(OWNER, 'timeout', timeout, 'milliseconds') };
}
