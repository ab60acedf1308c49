/**
 * The ceiling for `cross-instance.ts`: what Redis carries from one process to a
 * subscriber when nothing but a plain ioredis loop publishes, written as a careful
 * engineer would: the commands of one tick pipelined in one write (ioredis'
 * auto-pipelining), a bounded number in flight, and the same bytes a `RedisBroker`
 * publishes for a channel push. Run in a process of its own (fork), as an app
 * instance is; it floods when the load generator asks over IPC.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Message } from 'nestjs-easy-ws';
import { encodePayload } from '../lib/push/redis/redis-payload.js';
import { BENCH_CHANNEL, now, type CeilingRequest, type ServerReport } from './cross-instance-protocol.js';
import { flood } from './flood.js';

const redis = new Redis(process.env.BENCH_REDIS_URL ?? '', { enableAutoPipelining: true, maxRetriesPerRequest: 0 });
// What a RedisBroker publishes for a push to the bench channel: its header and the frame, of the same length.
const payload = encodePayload(randomBytes(16), { kind: 'channel', channel: BENCH_CHANNEL, message: new Message('tick', String(now())) });

process.on('message', ({ channel, durationMs, inFlight }: CeilingRequest) => {
  void flood(durationMs, inFlight, () => redis.publish(channel, payload)).then((report) => process.send?.(report satisfies ServerReport));
});
process.once('disconnect', () => {
  redis.disconnect();
  process.exit(0);
});
await redis.ping();
process.send?.({ ready: true } satisfies ServerReport);
