import { Message } from '../../protocol/message.js';
import type { StreamPosition } from '../../protocol/rules.js';
import type { HistoryEntry, HistoryPage, HistorySettings, HistoryStore } from '../broker.interface.js';
import { newEpoch } from '../memory-history.js';
import type { BoundedCalls } from './bounded-calls.js';
import type { Connection } from './redis-connections.js';
import type { RedisKeys } from './redis-keys.js';
import { RedisScript } from './redis-script.js';

/**
 * How long the position of a channel's history (its epoch and latest offset) outlives
 * its last push, in milliseconds, unless the history's `ttl` is longer: a client that
 * missed nothing recovers even once every frame has expired.
 */
export const HISTORY_POSITION_TTL = 24 * 60 * 60 * 1000;

/**
 * Keeps a frame as the channel's next, and publishes it with its position, in one step:
 * so the order of the stream is the order in which every instance gets the frames.
 * The epoch is made here when the position hash is missing (never pushed to, expired,
 * or a Redis that restarted empty), and the stream, whose offsets belonged to another
 * epoch, is dropped with it. Frames older than `ttl` are trimmed by time, by their ids.
 *
 * KEYS: position hash, stream. ARGV: size, ttl, position ttl, a new epoch should one be
 * needed, the Redis channel (prefixed as the subscriber sees it), whether pub/sub is
 * sharded ('1'), the payload's header, the frame, whether it is binary ('1').
 * Returns { offset, epoch }.
 */
const APPEND = new RedisScript(`
local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[4]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', epoch, 'o', 0)
end
local offset = string.format('%d', redis.call('HINCRBY', KEYS[1], 'o', 1))
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[1], '*', 'o', offset, 'f', ARGV[8], 'b', ARGV[9])
redis.call('XTRIM', KEYS[2], 'MINID', string.format('%d', now - tonumber(ARGV[2]) + 1))
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call(ARGV[6] == '1' and 'SPUBLISH' or 'PUBLISH', ARGV[5], ARGV[7] .. offset .. ' ' .. epoch .. '\\n' .. ARGV[8])
return { tonumber(offset), epoch }
`);

/**
 * Where a channel's history stands, and up to `count` of its latest frames younger than
 * `ttl`, newest first; the epoch is made (and kept) when there is none yet, as `APPEND`
 * would, so that the position a listen starts from is the one later frames continue.
 *
 * KEYS: position hash, stream. ARGV: a new epoch should one be needed, position ttl,
 * ttl, the offset after which frames are asked for ('' for all), the most wanted ('' for no limit).
 * Returns { epoch, offset, entries as XREVRANGE gives them }.
 */
const READ = new RedisScript(`
local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', ARGV[1], 'o', 0)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return { ARGV[1], 0, {} }
end
local offset = tonumber(redis.call('HGET', KEYS[1], 'o'))
local wanted = offset
if ARGV[4] ~= '' then wanted = offset - tonumber(ARGV[4]) end
if ARGV[5] ~= '' then wanted = math.min(wanted, tonumber(ARGV[5])) end
if wanted <= 0 then
  return { epoch, offset, {} }
end
local time = redis.call('TIME')
local oldest = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) - tonumber(ARGV[3]) + 1
return { epoch, offset, redis.call('XREVRANGE', KEYS[2], '+', string.format('%d', oldest), 'COUNT', wanted) }
`);

/** The Redis channel a frame of a channel with history is published on, as the script must name it. */
export type PublishedAs = (channel: string) => { readonly name: string; readonly sharded: boolean };

/**
 * The history of a `RedisBroker`: each channel's frames in a Redis stream (the last
 * `size`, each for `ttl`), its epoch and latest offset in a hash beside it. Offsets are
 * given by Redis, atomically with the append and the publish, so every instance sees
 * one order. Every call is bounded like the broker's other commands.
 */
export class RedisHistory implements HistoryStore {
  constructor(
    private readonly calls: BoundedCalls,
    private readonly connection: Connection,
    private readonly keys: RedisKeys,
    private readonly publishedAs: PublishedAs,
  ) {}

  /**
   * Appends `message` to the history of `channel` and publishes it, with its position,
   * as `header` followed by `<offset> <epoch>\n` and the frame: how `decodePayload` reads it.
   * @returns the frame's position.
   */
  async append(channel: string, message: Message, settings: HistorySettings, header: Buffer): Promise<StreamPosition> {
    const { name, sharded } = this.publishedAs(channel);
    const reply = (await this.calls.batched(() =>
      APPEND.run(
        this.connection,
        [this.keys.historyPosition(channel), this.keys.history(channel)],
        [settings.size, settings.ttl, positionTtl(settings), newEpoch(), name, sharded ? '1' : '0', header, message.frame, message.binary ? '1' : '0'],
      ),
    )) as [number, Buffer];
    return { offset: reply[0], epoch: reply[1].toString() };
  }

  async read(channel: string, settings: HistorySettings, { since, limit }: { since?: number; limit?: number }): Promise<HistoryPage> {
    const reply = (await this.calls.batched(() =>
      READ.run(
        this.connection,
        [this.keys.historyPosition(channel), this.keys.history(channel)],
        [newEpoch(), positionTtl(settings), settings.ttl, since ?? '', limit ?? ''],
      ),
    )) as [Buffer, number, Array<[Buffer, Buffer[]]>];
    const [epoch, offset, entries] = reply;
    const messages: HistoryEntry[] = [];
    for (let i = entries.length - 1; i >= 0; i--) {
      messages.push(entryOf(entries[i][1]));
    }
    return { position: { epoch: epoch.toString(), offset }, messages };
  }
}

function positionTtl(settings: HistorySettings): number {
  return Math.max(settings.ttl, HISTORY_POSITION_TTL);
}

/** A stream entry's fields, `o <offset> f <frame> b <binary>`, as the append script writes them. */
function entryOf(fields: Buffer[]): HistoryEntry {
  let offset = 0;
  let frame: Buffer = EMPTY;
  let binary = false;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i].toString();
    if (name === 'o') {
      offset = Number(fields[i + 1].toString());
    } else if (name === 'f') {
      frame = fields[i + 1];
    } else if (name === 'b') {
      binary = fields[i + 1].toString() === '1';
    }
  }
  return { offset, message: Message.fromFrame(frame, binary) };
}

const EMPTY = Buffer.alloc(0);
