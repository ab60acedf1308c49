import { Inject, Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { EasyWsServer, type EndpointStatus } from '../module/easy-ws.server.js';

/**
 * A `@nestjs/terminus` health indicator for the WebSocket endpoint: up while it takes
 * connections and its broker reaches the other instances; down otherwise (shutting
 * down, or Redis unreachable, when sessions are served by this instance alone). Add it
 * to the providers of the module whose controller runs the health check, beside
 * `TerminusModule`:
 *
 * ```ts
 * @Get('health') @HealthCheck()
 * check() {
 *   return this.health.check([() => this.websocket.isHealthy('websocket')]);
 * }
 * ```
 */
@Injectable()
export class EasyWsHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(EasyWsServer) private readonly server: { status(): EndpointStatus },
  ) {}

  /** The endpoint's health under `key`, with what `EndpointStatus` tells. */
  isHealthy<const Key extends string>(key: Key): HealthIndicatorResult<Key> {
    const status = this.server.status();
    const indicator = this.indicators.check(key);
    return status.accepting && status.brokerConnected ? indicator.up({ ...status }) : indicator.down({ ...status });
  }
}
