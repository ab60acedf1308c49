/**
 * Everything of Nest's that the handlers rely on and that is not Nest's public API,
 * in one place. The canary tests check each of these against the installed Nest and
 * name what changed; at start-up the invoker checks the members of
 * `ExternalContextCreator` it looks into and, where one is missing or changed, runs
 * every handler through Nest's full pipeline instead of calling it directly.
 */
import type { ExternalContextCreator } from '@nestjs/core';

export { ExecutionContextHost, type InstanceWrapper } from '@nestjs/core/internal';
export type { ExternalExceptionFilterContext } from '@nestjs/core/exceptions/external-exception-filter-context.js';
export { type ExceptionFilterMetadata, ROUTE_ARGS_METADATA, selectExceptionFilterMetadata } from '@nestjs/common/internal';
export { WsParamsFactory } from '@nestjs/websockets/factories/ws-params-factory.js';
export { WsParamtype } from '@nestjs/websockets/enums/ws-paramtype.enum.js';

/** What `ExternalContextCreator.create` consults while it wraps a method, besides its public methods. */
interface ContextCreatorInternals {
  readonly filtersContextCreator?: { readonly create?: unknown };
  readonly interceptorsContextCreator?: { readonly create?: unknown };
  readonly externalErrorProxy?: { readonly createProxy?: unknown };
  readonly createGuardsFn?: unknown;
  readonly createPipesFn?: unknown;
  readonly transformToResult?: unknown;
}

/**
 * The members of `ExternalContextCreator` the invoker looks into, each with the check
 * of its shape. `transformToResult` and the filters' `create` are overridden on every
 * path (so Observables pass through and filters behave as on gateways); the others
 * report what Nest resolved for a method, which is what allows calling it directly.
 */
export const CONTEXT_CREATOR_MEMBERS: Readonly<Record<string, (creator: ContextCreatorInternals) => boolean>> = {
  'filtersContextCreator.create': (creator) => typeof creator.filtersContextCreator?.create === 'function',
  'interceptorsContextCreator.create': (creator) => typeof creator.interceptorsContextCreator?.create === 'function',
  'externalErrorProxy.createProxy': (creator) => typeof creator.externalErrorProxy?.createProxy === 'function',
  createGuardsFn: (creator) => typeof creator.createGuardsFn === 'function',
  createPipesFn: (creator) => typeof creator.createPipesFn === 'function',
  transformToResult: (creator) => typeof creator.transformToResult === 'function',
};

/** The members of `CONTEXT_CREATOR_MEMBERS` that `creator` lacks or has in another shape. */
export function missingContextCreatorMembers(creator: ExternalContextCreator): string[] {
  const internals = creator as unknown as ContextCreatorInternals;
  return Object.entries(CONTEXT_CREATOR_MEMBERS)
    .filter(([, present]) => !present(internals))
    .map(([member]) => member);
}
