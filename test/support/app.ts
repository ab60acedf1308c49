import type { AddressInfo } from 'node:net';
import type { INestApplication, LoggerService, ModuleMetadata } from '@nestjs/common';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';

/** A running Nest application on a free port of 127.0.0.1. */
export interface RunningApp {
  readonly app: INestApplication;
  readonly port: number;
  /** The WebSocket URL of `path`. */
  url(path?: string): string;
  close(): Promise<void>;
}

/** How `startApp` sets the application up. */
export interface StartOptions {
  /** Receives the application's log; by default nothing is logged. */
  logger?: LoggerService;
  /** Runs after the application is created and before it starts (to install a WebSocket adapter, say). */
  configure?: (app: INestApplication) => void;
  /** The port to listen on, to restart an application where clients expect it; default a free one. */
  port?: number;
  /** Changes the testing module before it is compiled (to override a provider, say). */
  prepare?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
}

/** Builds a real Nest application from `metadata` with `@nestjs/testing` and listens on a free port. */
export async function startApp(metadata: ModuleMetadata, options: StartOptions = {}): Promise<RunningApp> {
  const builder = Test.createTestingModule(metadata);
  const moduleRef = await (options.prepare?.(builder) ?? builder).compile();
  const app = moduleRef.createNestApplication({ logger: options.logger ?? false });
  options.configure?.(app);
  await app.listen(options.port ?? 0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return {
    app,
    port,
    url: (path = '/ws') => `ws://127.0.0.1:${port}${path}`,
    close: () => app.close(),
  };
}
