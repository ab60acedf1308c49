import { createHash } from 'node:crypto';
import type { Connection } from './redis-connections.js';

/** A value a script takes: a key or an argument. */
export type ScriptArgument = string | Buffer | number;

/**
 * A Lua script, sent by its SHA1 (`EVALSHA`) and by its text only when Redis does not
 * have it yet (after a restart, or on a node of a cluster that never ran it). Replies
 * come as Buffers, so that frames kept in Redis come back byte for byte. ioredis gives
 * the keys its `keyPrefix` and, on a cluster, sends the call to the node of their slot.
 */
export class RedisScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Runs the script on `connection`. */
  async run(connection: Connection, keys: readonly string[], args: readonly ScriptArgument[]): Promise<unknown> {
    try {
      return await connection.callBuffer('EVALSHA', this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) {
        throw error;
      }
      return connection.callBuffer('EVAL', this.source, keys.length, ...keys, ...args);
    }
  }
}
