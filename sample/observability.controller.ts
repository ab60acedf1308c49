import { Controller, Get, Header } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { Registry } from 'prom-client';
import { EasyWsHealthIndicator } from 'nestjs-easy-ws/health';

/**
 * What operators look at (docs/observability.md): the Prometheus metrics at /metrics, and
 * /health, which is down while the endpoint does not take connections or, with Redis,
 * while Redis is unreachable.
 */
@Controller()
export class ObservabilityController {
  constructor(
    private readonly registry: Registry,
    private readonly health: HealthCheckService,
    private readonly websocket: EasyWsHealthIndicator,
  ) {}

  @Get('metrics')
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.websocket.isHealthy('websocket')]);
  }
}
