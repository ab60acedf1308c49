import { Injectable, Logger } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { isSlowConsumerPolicy } from '../endpoint/endpoint-options.js';
import { withCode } from '../protocol/errors.js';
import { commandProblem } from '../protocol/rules.js';
import { ChannelMatcher } from './channel-matcher.js';
import { EASY_WS_HANDLER_METADATA } from './handler-metadata.js';
import { HandlerInvoker } from './handler-invoker.js';
import type { HandlerDeclaration } from './interfaces/handler-declaration.interface.js';
import type { BodyParam, ChannelHandler, DeclaredHandler, Handlers, RouteHandler } from './interfaces/route-handler.interface.js';
import type { HistorySettings } from '../push/broker.interface.js';
import type { ChannelSettings } from '../push/push.constants.js';
import { type InstanceWrapper, ROUTE_ARGS_METADATA, WsParamtype } from './nest-internals.js';

/** `@MessageBody()` types that take the data as it came: text, bytes, or untyped. */
const RAW_BODY_TYPES: ReadonlySet<unknown> = new Set([undefined, String, Object, Buffer, Uint8Array]);

interface ParamMetadata {
  readonly index: number;
  readonly data?: unknown;
}

/** A declaration that cannot work, found at start-up. */
function invalidDeclaration(message: string, cause?: unknown): Error {
  return withCode(new Error(message, cause === undefined ? undefined : { cause }), 'EASY_WS_INVALID_DECLARATION');
}

/**
 * Finds the `@Command`, `@ListenChannel`, `@OnOpen` and `@OnClose` methods of every
 * provider and controller and has each wrapped once, failing start-up on a
 * declaration that cannot work, with the classes involved in the message.
 */
@Injectable()
export class EasyWsExplorer {
  private readonly logger = new Logger('EasyWs');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly invoker: HandlerInvoker,
  ) {}

  /** Finds and wraps every handler. @throws Error (`EASY_WS_INVALID_DECLARATION`) for a bad or duplicate declaration. */
  explore(): Handlers {
    if (this.invoker.missingInternals.length > 0) {
      this.logger.warn(
        `This version of Nest lacks ${this.invoker.missingInternals.join(', ')} of ExternalContextCreator: ` +
          "every handler runs through Nest's full pipeline, which behaves the same and is slower",
      );
    }
    const commands = new Map<string, RouteHandler>();
    const channels = new ChannelMatcher<ChannelHandler>();
    const open: RouteHandler[] = [];
    const close: RouteHandler[] = [];
    const leaves: Array<{ pattern: string; handler: RouteHandler }> = [];
    const declared: DeclaredHandler[] = [];
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      for (const [methodName, declaration] of this.declarations(wrapper)) {
        const body = messageBody(wrapper.instance as object, methodName);
        // A channel's guards have the last word: no exception filter may turn a denied listen into a subscription.
        const handler = this.wrap(wrapper, methodName, declaration.kind !== 'channel', body);
        declared.push({ owner: handler.owner, declaration, body });
        switch (declaration.kind) {
          case 'command': {
            const problem = commandProblem(declaration.command);
            if (problem) {
              throw invalidDeclaration(`@Command(${JSON.stringify(declaration.command)}) on ${handler.owner}: ${problem}`);
            }
            const existing = commands.get(declaration.command);
            if (existing) {
              throw invalidDeclaration(
                `@Command(${JSON.stringify(declaration.command)}) is declared twice: on ${existing.owner} and on ${handler.owner}`,
              );
            }
            commands.set(declaration.command, handler);
            break;
          }
          case 'channel':
            this.addChannel(channels, declaration, handler);
            break;
          case 'leave':
            leaves.push({ pattern: declaration.pattern, handler });
            break;
          case 'open':
            open.push(handler);
            break;
          case 'close':
            close.push(handler);
            break;
        }
      }
    }
    for (const { pattern, handler } of leaves) {
      this.addLeave(channels, pattern, handler);
    }
    return { commands, channels, open, close, declared };
  }

  private addChannel(channels: ChannelMatcher<ChannelHandler>, declaration: Extract<HandlerDeclaration, { kind: 'channel' }>, handler: RouteHandler): void {
    const where = `@ListenChannel(${JSON.stringify(declaration.pattern)}) on ${handler.owner}`;
    const settings = channelSettings(declaration, where);
    let existing: ChannelHandler | undefined;
    try {
      existing = channels.add(declaration.pattern, { ...handler, settings });
    } catch (error) {
      throw invalidDeclaration(`${where}: ${(error as Error).message}`, error);
    }
    if (existing) {
      throw invalidDeclaration(`${where} matches the same channels as the one on ${existing.owner}`);
    }
  }

  /** Gives the channel declared with `pattern` its leave method. */
  private addLeave(channels: ChannelMatcher<ChannelHandler>, pattern: string, leave: RouteHandler): void {
    const where = `@LeaveChannel(${JSON.stringify(pattern)}) on ${leave.owner}`;
    let channel: ChannelHandler | undefined;
    try {
      channel = channels.declared(pattern);
    } catch (error) {
      throw invalidDeclaration(`${where}: ${(error as Error).message}`, error);
    }
    if (!channel) {
      throw invalidDeclaration(`${where}: no @ListenChannel declares this pattern; declare the channel, or use its exact pattern`);
    }
    if (channel.leave) {
      throw invalidDeclaration(`${where}: the channel has a leave method already, on ${channel.leave.owner}`);
    }
    (channel as { leave?: RouteHandler }).leave = leave;
  }

  private declarations(wrapper: InstanceWrapper): Array<[string, HandlerDeclaration]> {
    const { instance } = wrapper;
    if (!instance || typeof instance !== 'object') {
      return [];
    }
    const prototype = Object.getPrototypeOf(instance);
    const found: Array<[string, HandlerDeclaration]> = [];
    for (const methodName of this.scanner.getAllMethodNames(prototype)) {
      const declaration = this.reflector.get<HandlerDeclaration | undefined>(EASY_WS_HANDLER_METADATA, prototype[methodName]);
      if (declaration) {
        found.push([methodName, declaration]);
      }
    }
    if (found.length > 0 && !wrapper.isDependencyTreeStatic()) {
      throw invalidDeclaration(
        `${instance.constructor.name} declares WebSocket handlers but is request-scoped; handlers must live in singleton providers`,
      );
    }
    return found;
  }

  private wrap(wrapper: InstanceWrapper, methodName: string, filters: boolean, body: readonly BodyParam[]): RouteHandler {
    const instance = wrapper.instance as object;
    const { invoke, direct, guard } = this.invoker.wrap(instance, methodName, filters);
    return { owner: `${instance.constructor.name}.${methodName}`, invoke, direct, guard, parsesJson: takesJson(body) };
  }
}

/** The method's `@MessageBody()` parameters, in the order of its parameters. */
function messageBody(instance: object, methodName: string): BodyParam[] {
  const params: Record<string, ParamMetadata> =
    Reflect.getMetadata(ROUTE_ARGS_METADATA, instance.constructor, methodName) ?? {};
  const types: unknown[] = Reflect.getMetadata('design:paramtypes', instance, methodName) ?? [];
  return Object.entries(params)
    .filter(([key, { index }]) => key === `${WsParamtype.PAYLOAD}:${index}`)
    .sort(([, a], [, b]) => a.index - b.index)
    .map(([, { index, data }]) => (typeof data === 'string' ? { field: data, type: types[index] } : { type: types[index] }));
}

/**
 * A frame's data is text, but a handler that declares its body as a class (a DTO for
 * `ValidationPipe`), a number or an array, or picks a field with `@MessageBody('name')`,
 * means JSON: such handlers get the data parsed.
 */
function takesJson(body: readonly BodyParam[]): boolean {
  return body.some(({ field, type }) => field !== undefined || !RAW_BODY_TYPES.has(type));
}

/** The largest history a channel may keep: beyond it, a store of the application's own serves better. */
const MAX_HISTORY_SIZE = 100_000;

/**
 * The settings a `@ListenChannel` declaration gives its channels, checked.
 * @throws Error (`EASY_WS_INVALID_DECLARATION`) naming what is wrong.
 */
function channelSettings(declaration: Extract<HandlerDeclaration, { kind: 'channel' }>, where: string): ChannelSettings {
  const { slowConsumer, history, presence } = declaration;
  if (slowConsumer !== undefined && !isSlowConsumerPolicy(slowConsumer)) {
    throw invalidDeclaration(`${where}: "slowConsumer" must be "close" or "drop", got ${JSON.stringify(slowConsumer)}`);
  }
  if (history !== undefined) {
    const { size, ttl } = (history ?? {}) as Partial<HistorySettings>;
    if (!Number.isSafeInteger(size) || (size as number) < 1 || (size as number) > MAX_HISTORY_SIZE) {
      throw invalidDeclaration(`${where}: "history.size" must be a whole number of frames from 1 to ${MAX_HISTORY_SIZE}, got ${JSON.stringify(size)}`);
    }
    if (!Number.isSafeInteger(ttl) || (ttl as number) < 1) {
      throw invalidDeclaration(`${where}: "history.ttl" must be a positive whole number of milliseconds, got ${JSON.stringify(ttl)}`);
    }
  }
  const info = typeof presence === 'object' && presence !== null ? presence.info : undefined;
  if ((presence !== undefined && typeof presence !== 'boolean' && (typeof presence !== 'object' || presence === null)) || (info !== undefined && typeof info !== 'function')) {
    throw invalidDeclaration(`${where}: "presence" must be true, or { info: (session) => value }`);
  }
  return {
    slowConsumer,
    history: history && { size: history.size, ttl: history.ttl },
    presence: presence ? { info } : undefined,
  };
}
