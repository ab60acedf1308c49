import type { AddressInfo } from 'node:net';
import type { INestApplication, LoggerService, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';

/** A running Nest application on a free port of 127.0.0.1. */
export interface RunningApp {
  readonly app: INestApplication;
  readonly port: number;
  /** The WebSocket URL of `path`. */
  url(path?: string): string;
  close(): Promise<void>;
}

/**
 * Builds a real Nest application from `metadata` with `@nestjs/testing` and listens on
 * a free port. It logs nothing, unless a `logger` is given to record what it logs.
 */
export async function startApp(metadata: ModuleMetadata, logger: LoggerService | false = false): Promise<RunningApp> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = moduleRef.createNestApplication({ logger });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return {
    app,
    port,
    url: (path = '/ws') => `ws://127.0.0.1:${port}${path}`,
    close: () => app.close(),
  };
}
