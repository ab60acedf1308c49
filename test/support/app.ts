import type { AddressInfo } from 'node:net';
import type { INestApplication, ModuleMetadata } from '@nestjs/common';
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
 * Builds a real Nest application from `metadata` with `@nestjs/testing` and listens
 * on a free port, or on `fixedPort` to restart an application where clients expect it.
 */
export async function startApp(metadata: ModuleMetadata, fixedPort = 0): Promise<RunningApp> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(fixedPort, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return {
    app,
    port,
    url: (path = '/ws') => `ws://127.0.0.1:${port}${path}`,
    close: () => app.close(),
  };
}
