import { CLOSE_CODES } from '../protocol/close-codes.js';
import { NOTICES } from '../protocol/notices.js';

/** Why a handshake was refused, as the metrics name it. */
export type RefusalReason = 'origin' | 'auth' | 'limit' | 'timeout' | 'shutdown';

/** The close codes counted by their number: the protocol's own (1000 to 1015) and the library's; any other counts as `other`. */
const NAMED_CLOSE_CODES: ReadonlySet<number> = new Set([...Array.from({ length: 16 }, (_, index) => 1000 + index), ...Object.values(CLOSE_CODES)]);

/** The notices counted by their name in `NOTICES`; a `WsException`'s own text counts as `application`. */
const NOTICE_NAMES: ReadonlyMap<string, string> = new Map(Object.entries(NOTICES).map(([name, text]) => [text, name]));

/**
 * What the sessions and handshakes of an endpoint did, counted in plain numbers as it
 * happens and read by the metrics when they are scraped, so that counting costs an
 * addition. Every label a count is kept by is bounded: close codes, refusal reasons
 * and notice names, never anything a client chooses freely.
 */
export class EndpointStats {
  /** Sessions ever opened; how many are open now, the session registry knows. */
  connectionsOpened = 0;
  /** Sessions closed, by close code (`1006` for a connection dropped without a close frame). */
  readonly connectionsClosed = new Map<string, number>();
  /** Upgrades refused, by reason. */
  readonly handshakesRefused: Record<RefusalReason, number> = { origin: 0, auth: 0, limit: 0, timeout: 0, shutdown: 0 };
  /** Frames written to clients. */
  framesSent = 0;
  /** Frames not written to a slow client under the `'drop'` policy. */
  framesDropped = 0;
  /** Sessions closed for reading too slowly under the `'close'` policy. */
  slowConsumerCloses = 0;
  /** Frames refused by the rate limit. */
  rateLimited = 0;
  /** Failure notices given, by name. */
  readonly notices = new Map<string, number>();

  /** A session closed, with this close code. */
  closed(code: number): void {
    const label = NAMED_CLOSE_CODES.has(code) ? String(code) : 'other';
    this.connectionsClosed.set(label, (this.connectionsClosed.get(label) ?? 0) + 1);
  }

  /** A failure notice with this text was given. */
  noticed(text: string): void {
    const name = NOTICE_NAMES.get(text) ?? 'application';
    this.notices.set(name, (this.notices.get(name) ?? 0) + 1);
  }
}

/** Each adapter's counts, kept beside it rather than on it: the module's metrics read them, applications do not. */
const adapterStats = new WeakMap<object, EndpointStats>();

/**
 * The counts of `adapter`: those the module gave it with `countInto`, else its own,
 * made on first use.
 */
export function statsOf(adapter: object): EndpointStats {
  let stats = adapterStats.get(adapter);
  if (!stats) {
    stats = new EndpointStats();
    adapterStats.set(adapter, stats);
  }
  return stats;
}

/** Makes `adapter` count into `stats`: the module's, which its metrics read. Call it before the adapter's first endpoint opens. */
export function countInto(adapter: object, stats: EndpointStats): void {
  adapterStats.set(adapter, stats);
}
