import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { INestApplication, Type, WebSocketAdapter } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { cpuMilliseconds, openFileLimit } from '../limits.js';
import { answerRequests } from '../rpc.js';

/** What a bench server reports about itself. */
export interface ServerStats {
  readonly rss: number;
  readonly cpuMs: number;
  readonly openFiles: number | undefined;
}

/**
 * Runs a bench server: `start` listens on a free port of 127.0.0.1 and returns it;
 * the runner asks for the port, for stats (after a full GC when it measures memory),
 * and for a clean exit (so that `--cpu-prof` can write its profile).
 */
export function serveBench(start: () => Promise<number>): void {
  const port = start();
  answerRequests({
    port: () => port,
    stats: ({ gc }: { gc?: boolean }): ServerStats => {
      const collect = (globalThis as { gc?: () => void }).gc;
      if (gc && collect) {
        collect();
        collect();
      }
      return { rss: process.memoryUsage().rss, cpuMs: cpuMilliseconds(), openFiles: openFileLimit() };
    },
    exit: () => {
      setImmediate(() => process.exit(0));
    },
  });
}

/** Serves a Nest application built from `module` (without logs), on `adapter` if given. */
export function serveNest(module: Type, adapter?: (app: INestApplication) => WebSocketAdapter): void {
  serveBench(async () => {
    const app = await NestFactory.create(module, { logger: false });
    if (adapter) {
      app.useWebSocketAdapter(adapter(app));
    }
    await app.listen(0, '127.0.0.1');
    return (app.getHttpServer().address() as AddressInfo).port;
  });
}
