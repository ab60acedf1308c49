/**
 * nestjs-easy-ws/health: the endpoint's health indicator for `@nestjs/terminus`,
 * which this entry needs installed (the rest of the package does not).
 *
 * @packageDocumentation
 */
export { EasyWsHealthIndicator } from './easy-ws-health.indicator.js';
export type { EndpointStatus } from '../module/easy-ws.server.js';
