import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { EndpointStats } from '../endpoint/endpoint-stats.js';
import { CommandStats } from '../handlers/command-stats.js';
import type { Broker } from '../push/broker.interface.js';
import { EASY_WS_BROKER } from '../push/push.constants.js';
import { PushStats } from '../push/push-stats.js';
import { SessionRegistry } from '../push/session-registry.js';
import { importOptional } from '../utils/optional-package.js';
import { invalidOption } from '../utils/option-checks.js';
import { defineMetrics } from './metric-definitions.js';
import type { MetricsRegistry } from './interfaces/metrics-options.interface.js';
import { METRICS_OPTIONS, type MetricsSettings } from './metrics-options.js';

type PromClient = typeof import('prom-client');

/**
 * The metrics, with the `metrics` option: registered on the registry at module init
 * (prom-client loaded only then, so an application without the option does not need
 * it) and taken off it at shutdown, so that an application built again in the same
 * process (tests do) registers them afresh.
 */
@Injectable()
export class EasyWsMetrics implements OnModuleInit, OnModuleDestroy {
  private registered: { readonly registry: MetricsRegistry; readonly names: string[] } | undefined;

  constructor(
    @Inject(METRICS_OPTIONS) private readonly settings: MetricsSettings,
    private readonly endpoint: EndpointStats,
    private readonly push: PushStats,
    private readonly commands: CommandStats,
    private readonly sessions: SessionRegistry,
    @Inject(EASY_WS_BROKER) private readonly broker: Broker,
  ) {}

  /** @throws TypeError (`EASY_WS_INVALID_OPTIONS`) when a metric of the same name is on the registry already; Error (`EASY_WS_MISSING_PACKAGE`) without prom-client. */
  async onModuleInit(): Promise<void> {
    const { metrics } = this.settings;
    if (!metrics) {
      return;
    }
    const prom = await importOptional<PromClient>('prom-client', 'the "metrics" option');
    const registry: MetricsRegistry = metrics.registry ?? prom.register;
    const { endpoint, push, commands, sessions, broker } = this;
    const names: string[] = [];
    try {
      for (const metric of defineMetrics(prom, metrics.prefix, { endpoint, push, commands, sessions, broker })) {
        registry.registerMetric(metric);
        // Every prom-client metric has its name at run time; its types do not declare it.
        names.push((metric as { name: string }).name);
      }
    } catch (error) {
      names.forEach((name) => registry.removeSingleMetric(name));
      throw invalidOption(
        'EasyWsModule',
        `"metrics": ${(error as Error).message} On one registry, each application needs its own "metrics.prefix"; or give it its own "metrics.registry".`,
      );
    }
    this.registered = { registry, names };
  }

  onModuleDestroy(): void {
    const registered = this.registered;
    this.registered = undefined;
    registered?.names.forEach((name) => registered.registry.removeSingleMetric(name));
  }
}
