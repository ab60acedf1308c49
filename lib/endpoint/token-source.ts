import type { IncomingMessage } from 'node:http';
import type { TokenSource } from './interfaces/endpoint-options.interface.js';

/** Reads the auth token from where the options say; never throws on a malformed request. */
export function readToken(source: TokenSource, request: IncomingMessage): string | undefined {
  if (typeof source === 'function') {
    return source(request);
  }
  if ('header' in source) {
    const value = request.headers[source.header.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  }
  if ('query' in source) {
    // URLSearchParams, unlike URL, accepts any text, so a malformed request line cannot throw here.
    const url = request.url ?? '';
    const query = url.indexOf('?');
    return query === -1 ? undefined : (new URLSearchParams(url.slice(query)).get(source.query) ?? undefined);
  }
  return readCookie(request.headers.cookie, source.cookie);
}

/** The value of cookie `name` in a `Cookie` header, unquoted and decoded. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) {
    return undefined;
  }
  for (const pair of header.split(';')) {
    const separator = pair.indexOf('=');
    if (separator !== -1 && pair.slice(0, separator).trim() === name) {
      const raw = pair.slice(separator + 1).trim();
      // RFC 6265 allows a quoted value; Go's net/http, whose clients send it, unquotes it.
      const value = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    }
  }
  return undefined;
}
