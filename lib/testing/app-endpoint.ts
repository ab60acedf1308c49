import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { EASY_WS_OPTIONS, type ResolvedEasyWsOptions } from '../module/options.js';
import { withCode } from '../protocol/errors.js';
import { invalidOption } from '../utils/option-checks.js';
import type { ResolvedTestClientOptions } from './test-client-options.js';

/** Where the test client connects, and the headers of its upgrade request. */
export interface TestEndpoint {
  readonly url: URL;
  readonly headers: Record<string, string>;
}

/** The applications the test client started, so that clients connecting at once start each only once. */
const started = new WeakMap<INestApplication, Promise<unknown>>();

/**
 * The URL and headers for a connection to `target`: an application (started on a free
 * port of 127.0.0.1 if it does not listen yet) or the URL of an endpoint.
 */
export async function testEndpoint(target: INestApplication | string | URL, options: ResolvedTestClientOptions): Promise<TestEndpoint> {
  const headers: Record<string, string> = { ...options.headers };
  const cookies: Record<string, string> = { ...options.cookies };
  let url: URL;
  if (typeof target === 'string' || target instanceof URL) {
    if (options.token !== undefined) {
      throw invalidOption('EasyWsTestClient', '"token" needs the application, which says where the token goes; with a URL, use "cookies", "headers" or "query"');
    }
    url = new URL(target);
  } else {
    const module = moduleOptions(target);
    const path = options.path ?? module?.path;
    if (path === undefined) {
      throw withCode(
        new TypeError('EasyWsTestClient: the application does not import EasyWsModule; give the endpoint\'s "path"'),
        'EASY_WS_INVALID_ARGUMENT',
      );
    }
    url = new URL(path, await listeningAt(target));
    if (options.token !== undefined) {
      const source = module?.token;
      if (source === undefined || typeof source === 'function') {
        throw invalidOption('EasyWsTestClient', '"token" needs to know where the application reads it; it reads it with a function, so use "cookies", "headers" or "query"');
      }
      if ('cookie' in source) {
        cookies[source.cookie] = options.token;
      } else if ('header' in source) {
        headers[source.header] = options.token;
      } else {
        url.searchParams.set(source.query, options.token);
      }
    }
  }
  for (const [name, value] of Object.entries(options.query)) {
    url.searchParams.set(name, value);
  }
  const cookie = Object.entries(cookies).map(([name, value]) => `${name}=${encodeURIComponent(value)}`);
  if (cookie.length > 0) {
    headers.Cookie = [headers.Cookie, ...cookie].filter(Boolean).join('; ');
  }
  return { url, headers };
}

/** The options of the application's `EasyWsModule`, if it imports one. */
function moduleOptions(app: INestApplication): ResolvedEasyWsOptions | undefined {
  try {
    return app.get<ResolvedEasyWsOptions>(EASY_WS_OPTIONS, { strict: false });
  } catch {
    return undefined;
  }
}

/** `ws://host:port` of the application, which is made to listen on a free port of 127.0.0.1 if it does not yet. */
async function listeningAt(app: INestApplication): Promise<string> {
  const server = app.getHttpServer() as Server;
  if (!server.listening) {
    let starting = started.get(app);
    if (!starting) {
      starting = app.listen(0, '127.0.0.1');
      started.set(app, starting);
    }
    await starting;
  }
  const { address, port } = server.address() as AddressInfo;
  const host = address === '::' ? '[::1]' : address === '0.0.0.0' ? '127.0.0.1' : address.includes(':') ? `[${address}]` : address;
  return `ws://${host}:${port}`;
}
