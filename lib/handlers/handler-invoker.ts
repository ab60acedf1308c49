import type { ArgumentsHost } from '@nestjs/common';
import type { ExternalContextCreator, ParamsFactory } from '@nestjs/core';
import type { EasyWsSession } from '../endpoint/easy-ws-session.js';
import {
  type ExceptionFilterMetadata,
  ExecutionContextHost,
  type ExternalExceptionFilterContext,
  missingContextCreatorMembers,
  ROUTE_ARGS_METADATA,
  selectExceptionFilterMetadata,
  WsParamsFactory,
  WsParamtype,
} from './nest-internals.js';

/**
 * Runs a handler method with the arguments of a gateway handler: (client, data,
 * pattern). Returns what the method returned, or a promise of it (Nest's wrapper
 * always returns one); a method called directly that answers at once is answered
 * without one.
 */
export type Invoke = (session: EasyWsSession, data: unknown, pattern: string) => unknown;

/** Whether `value` is a promise (or any thenable) to be awaited, as `await` would take it. */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}

/** A method, ready to be called for each frame. */
export interface WrappedMethod {
  readonly invoke: Invoke;
  /** Whether `invoke` calls the method directly, because Nest would only have called it. */
  readonly direct: boolean;
  /**
   * Runs the method's guards alone (global, class and method ones): resolves when they
   * let the session through, rejects as `invoke` would when one denies. Without it
   * (a Nest that does not report its guards), checking the guards means invoking.
   */
  readonly guard?: Invoke;
}

/** One decorated parameter, as Nest resolved it: where it goes, its kind, how its value is found, its own pipes. */
interface ResolvedParam {
  readonly index: number;
  /** A `WsParamtype` for Nest's own decorators; a custom decorator's is its key. */
  readonly type?: unknown;
  /** What the decorator was given: `@MessageBody('name')` picks a field. */
  readonly data?: unknown;
  readonly extractValue: (...args: unknown[]) => unknown;
  readonly pipes: readonly unknown[];
}

/** A parameter's value for one call, from the arguments of a gateway handler. */
type ParamValue = (session: EasyWsSession, data: unknown, pattern: string) => unknown;

/** Nest's exception handler for one method: its filters, and what it does with an error none of them catches. */
interface ResolvedExceptionHandler {
  readonly filters: readonly unknown[];
  next(error: unknown, host: ArgumentsHost): unknown;
}

/** What Nest resolved for one method while wrapping it; a part it never reported stays undefined. */
interface Resolved {
  guards?: readonly unknown[];
  /** What Nest made of the guards: a function of the handler's arguments, or null when there are none. */
  guardsFn?: ((args: unknown[]) => Promise<void>) | null;
  interceptors?: readonly unknown[];
  pipes?: readonly unknown[];
  params?: readonly ResolvedParam[];
  exceptions?: ResolvedExceptionHandler;
}

/** The steps of `ExternalContextCreator.create` that hand over what it resolved (not public API; see nest-internals). */
interface ContextCreatorSteps {
  readonly filtersContextCreator: ExternalExceptionFilterContext;
  createGuardsFn(guards: readonly unknown[], ...rest: unknown[]): unknown;
  createPipesFn(pipes: readonly unknown[], params: readonly ResolvedParam[]): unknown;
  readonly interceptorsContextCreator: { create(...args: unknown[]): readonly unknown[] };
  readonly externalErrorProxy: { createProxy(target: unknown, exceptions: ResolvedExceptionHandler, type: string): unknown };
}

/**
 * Wraps handler methods once, at start-up, the way Nest wraps a gateway's: with
 * `ExternalContextCreator`, context type `'ws'`, so that guards, interceptors, pipes,
 * exception filters and param decorators work as they do there.
 *
 * Nest's wrapper costs a dozen promises and closures per call even for a method to
 * which none of those applies, and most command handlers are such methods. So while
 * Nest wraps a method, this records what it resolved for it (global, class and
 * method enhancers, each parameter's extractor and pipes, the exception handler);
 * when every list is empty, the method is called directly: each parameter's value
 * as Nest gives it (`paramValue`), an error through Nest's own exception handler. Should a
 * Nest version not report every part, the method keeps Nest's wrapper; should it lack
 * a member this looks into (`missingInternals`), every method does.
 */
export class HandlerInvoker {
  private readonly contextCreator: ExternalContextCreator;
  /** Nest's own gateway factory, so `@MessageBody()` and `@ConnectedSocket()` mean what they mean there. */
  private readonly paramsFactory = new WsParamsFactory() as ParamsFactory;
  private resolving: Resolved = {};

  /**
   * @param externalContextCreator Nest's, from the application.
   * @param missingInternals the members of it that this Nest lacks or has in another
   *   shape; with any, every method keeps Nest's full pipeline (same behaviour, slower).
   */
  constructor(
    externalContextCreator: ExternalContextCreator,
    readonly missingInternals: readonly string[] = missingContextCreatorMembers(externalContextCreator),
  ) {
    const present = (member: string): boolean => !this.missingInternals.includes(member);
    const steps = externalContextCreator as unknown as ContextCreatorSteps;
    const record = (): Resolved => this.resolving;
    // A view of Nest's shared creator. Nest turns an Observable result into its last
    // value; gateways send every emission, and so do we, so results pass through.
    // An error that an exception filter catches is handled, whatever the filter
    // returns, as on gateways (`BaseWsExceptionFilter` answers through `client.emit`
    // and returns nothing); Nest's view would rethrow it then. One that no filter
    // catches is rethrown without Nest's logging, which would log every WsException
    // with its stack: the router decides what an error means and logs the unexpected
    // ones itself, once. The recording steps are installed only where Nest has them.
    const overrides: PropertyDescriptorMap = {
      transformToResult: { value: async (result: unknown) => result },
    };
    if (present('filtersContextCreator.create')) {
      overrides.filtersContextCreator = {
        value: {
          create: (...args: Parameters<ExternalExceptionFilterContext['create']>) => {
            const handler = steps.filtersContextCreator.create(...args);
            const { filters } = handler as unknown as { filters: ExceptionFilterMetadata[] };
            return Object.assign(handler, {
              next: (error: Error, host: ArgumentsHost) => {
                const filter = filterFor(filters, error);
                if (!filter) {
                  throw error;
                }
                return filter.func(error, host);
              },
            });
          },
        },
      };
    }
    if (this.missingInternals.length === 0) {
      Object.assign(overrides, {
        createGuardsFn: {
          value(this: ContextCreatorSteps, guards: readonly unknown[], ...rest: unknown[]) {
            const guardsFn = steps.createGuardsFn.call(this, guards, ...rest) as Resolved['guardsFn'];
            Object.assign(record(), { guards, guardsFn });
            return guardsFn;
          },
        },
        createPipesFn: {
          value(this: ContextCreatorSteps, pipes: readonly unknown[], params: readonly ResolvedParam[]) {
            Object.assign(record(), { pipes, params });
            return steps.createPipesFn.call(this, pipes, params);
          },
        },
        interceptorsContextCreator: {
          value: {
            create: (...args: unknown[]) => (record().interceptors = steps.interceptorsContextCreator.create(...args)),
          },
        },
        externalErrorProxy: {
          value: {
            createProxy: (target: unknown, exceptions: ResolvedExceptionHandler, type: string) => {
              record().exceptions = exceptions;
              return steps.externalErrorProxy.createProxy(target, exceptions, type);
            },
          },
        },
      } satisfies PropertyDescriptorMap);
    }
    this.contextCreator = Object.create(externalContextCreator, overrides);
  }

  /** Wraps `instance[methodName]`; without `filters`, exception filters do not apply to it. */
  wrap(instance: object, methodName: string, filters = true): WrappedMethod {
    const method = (instance as Record<string, (...args: unknown[]) => unknown>)[methodName];
    this.resolving = {};
    const wrapped = this.contextCreator.create(
      instance as Record<string, (...args: unknown[]) => unknown>,
      method,
      methodName,
      ROUTE_ARGS_METADATA,
      this.paramsFactory,
      undefined,
      undefined,
      { guards: true, interceptors: true, filters },
      'ws',
    ) as Invoke;
    const resolved = this.resolving;
    this.resolving = {};
    if (this.missingInternals.length > 0) {
      return { invoke: wrapped, direct: false };
    }
    const guard = guardsOnly(resolved);
    // Without filters Nest puts no exception handler around the method: errors go straight out.
    const exceptions = filters ? resolved.exceptions : RETHROW;
    const { params } = resolved;
    if (!params || !exceptions || !nothingToRun({ ...resolved, exceptions })) {
      return { invoke: wrapped, direct: false, guard };
    }
    return { invoke: directCall(instance, method, params, exceptions), direct: true, guard };
  }
}

/** The guards Nest resolved for a method, as a check of their own; `undefined` when Nest did not report them. */
function guardsOnly({ guardsFn }: Resolved): Invoke | undefined {
  if (guardsFn === undefined) {
    return undefined;
  }
  return async (session, data, pattern) => {
    await guardsFn?.([session, data, pattern]);
  };
}

/**
 * The filter that catches `error`, if any. Choosing one asks `error instanceof` each
 * filter's types, which throws for a Proxy whose traps throw; no filter catches such a
 * value, so the router gets it as it was thrown rather than the TypeError of asking.
 */
function filterFor(filters: ExceptionFilterMetadata[], error: unknown): ExceptionFilterMetadata | undefined {
  try {
    return selectExceptionFilterMetadata(filters, error);
  } catch {
    return undefined;
  }
}

/** The exception handler of a method wrapped without filters. */
const RETHROW: ResolvedExceptionHandler = {
  filters: [],
  next: (error) => {
    throw error;
  },
};

function isEmptyList(list: readonly unknown[] | undefined): boolean {
  return Array.isArray(list) && list.length === 0;
}

/** Whether Nest's wrapper would do nothing but fill in the parameters and call the method. */
function nothingToRun({ guards, interceptors, pipes, params, exceptions }: Resolved): boolean {
  return (
    isEmptyList(guards) &&
    isEmptyList(interceptors) &&
    isEmptyList(pipes) &&
    isEmptyList(exceptions?.filters) &&
    typeof exceptions?.next === 'function' &&
    Array.isArray(params) &&
    params.every(({ extractValue, pipes: own, index }) => typeof extractValue === 'function' && isEmptyList(own) && Number.isInteger(index))
  );
}

/**
 * How a parameter gets its value, decided once at start-up: `@ConnectedSocket()` is the
 * session and a whole `@MessageBody()` the data, exactly as Nest's `WsParamsFactory`
 * gives them (a canary test holds the two together), without the array Nest's
 * extractor makes per call; any other decorator keeps Nest's extractor.
 */
function paramValue({ type, data, extractValue }: ResolvedParam): ParamValue {
  if (type === WsParamtype.SOCKET) {
    return (session) => session;
  }
  if (type === WsParamtype.PAYLOAD && !data) {
    return (_session, body) => body;
  }
  return extractValue as ParamValue;
}

/**
 * Calls the method as Nest's wrapper would with nothing to run: with no decorated
 * parameters it gets the raw arguments; otherwise each decorated position gets its
 * value and the others `undefined`. An error goes through the exception handler,
 * which, with no filter to run, throws it on for the router. Unlike Nest's wrapper,
 * it makes no promise of its own: a method that answers at once is answered at once.
 */
function directCall(instance: object, method: (...args: unknown[]) => unknown, params: readonly ResolvedParam[], exceptions: ResolvedExceptionHandler): Invoke {
  const call = callWith(instance, method, params);
  const failed = (error: unknown, session: EasyWsSession, data: unknown, pattern: string): unknown => {
    const host = new ExecutionContextHost([session, data, pattern]);
    host.setType('ws');
    return exceptions.next(error, host);
  };
  return (session, data, pattern) => {
    let result: unknown;
    try {
      result = call(session, data, pattern);
    } catch (error) {
      return failed(error, session, data, pattern);
    }
    return isPromiseLike(result) ? Promise.resolve(result).catch((error: unknown) => failed(error, session, data, pattern)) : result;
  };
}

/** The call of the method with its arguments, shaped once for its parameters; one body param, the usual case, needs no array. */
function callWith(instance: object, method: (...args: unknown[]) => unknown, params: readonly ResolvedParam[]): ParamValue {
  if (params.length === 0) {
    return (session, data, pattern) => method.call(instance, session, data, pattern);
  }
  const values = params.map(paramValue);
  const indices = params.map(({ index }) => index);
  if (params.length === 1 && indices[0] === 0) {
    const [value] = values;
    return (session, data, pattern) => method.call(instance, value(session, data, pattern));
  }
  const length = Math.max(...indices) + 1;
  return (session, data, pattern) => {
    const args: unknown[] = new Array(length).fill(undefined);
    for (let param = 0; param < values.length; param++) {
      args[indices[param]] = values[param](session, data, pattern);
    }
    return method.apply(instance, args);
  };
}
