import { Module } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * The application's own prom-client registry, with Node's default metrics beside the
 * WebSocket ones: one per application, so that two instances in one process (the
 * tests start two) keep their figures apart.
 */
@Module({
  providers: [
    {
      provide: Registry,
      useFactory: () => {
        const registry = new Registry();
        collectDefaultMetrics({ register: registry });
        return registry;
      },
    },
  ],
  exports: [Registry],
})
export class MetricsRegistryModule {}
