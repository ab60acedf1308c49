import { Injectable } from '@nestjs/common';
import { DiscoveryService, ExternalContextCreator, MetadataScanner, Reflector } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/internal';
import { WsParamtype } from '@nestjs/websockets/enums/ws-paramtype.enum.js';
import { ChannelMatcher } from './channel-matcher.js';
import { EASY_WS_HANDLER_METADATA } from './constants.js';
import { commandProblem } from './frame-codec.js';
import type { SlowConsumerPolicy } from './interfaces/easy-ws-options.interface.js';
import { HandlerInvoker, type Invoke } from './handler-invoker.js';
import type { HandlerDeclaration } from './interfaces/handler-declaration.interface.js';
import { isSlowConsumerPolicy } from './options.js';

/** A discovered method, wrapped once with its guards, pipes, interceptors and filters. */
export interface RouteHandler {
  /** `Class.method`, for errors and logs. */
  readonly owner: string;
  /** Runs the method as Nest runs a gateway's, guards to filters; args are those of a gateway: (client, data, pattern). */
  readonly invoke: Invoke;
  /** Whether `invoke` calls the method directly, nothing of Nest's pipeline applying to it. */
  readonly direct: boolean;
  /** Whether the method takes its data as JSON (a typed `@MessageBody()` or a body field). */
  readonly parsesJson: boolean;
  /** For a channel: the slow-consumer policy its declaration chose, if any. */
  readonly slowConsumer?: SlowConsumerPolicy;
}

/** `@MessageBody()` types that take the data as it came: text, bytes, or untyped. */
const RAW_BODY_TYPES: ReadonlySet<unknown> = new Set([undefined, String, Object, Buffer, Uint8Array]);

interface ParamMetadata {
  readonly index: number;
  readonly data?: unknown;
}

/** Every handler of the application, built once at start-up. */
export interface HandlerTable {
  readonly commands: ReadonlyMap<string, RouteHandler>;
  readonly channels: ChannelMatcher<RouteHandler>;
  readonly open: readonly RouteHandler[];
  readonly close: readonly RouteHandler[];
}

/**
 * Finds the `@Command`, `@ListenChannel`, `@OnOpen` and `@OnClose` methods of every
 * provider and controller and builds the handler table, failing start-up on a
 * declaration that cannot work, with the classes involved in the message.
 */
@Injectable()
export class EasyWsExplorer {
  private readonly invoker: HandlerInvoker;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    externalContextCreator: ExternalContextCreator,
  ) {
    this.invoker = new HandlerInvoker(externalContextCreator);
  }

  /** Builds the table. @throws Error for a bad or duplicate declaration. */
  explore(): HandlerTable {
    const commands = new Map<string, RouteHandler>();
    const channels = new ChannelMatcher<RouteHandler>();
    const open: RouteHandler[] = [];
    const close: RouteHandler[] = [];
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      for (const [methodName, declaration] of this.declarations(wrapper)) {
        // A channel's guards have the last word: no exception filter may turn a denied listen into a subscription.
        const handler = this.wrap(wrapper, methodName, declaration.kind !== 'channel');
        switch (declaration.kind) {
          case 'command': {
            const problem = commandProblem(declaration.command);
            if (problem) {
              throw new Error(`@Command(${JSON.stringify(declaration.command)}) on ${handler.owner}: ${problem}`);
            }
            const existing = commands.get(declaration.command);
            if (existing) {
              throw new Error(
                `@Command(${JSON.stringify(declaration.command)}) is declared twice: on ${existing.owner} and on ${handler.owner}`,
              );
            }
            commands.set(declaration.command, handler);
            break;
          }
          case 'channel': {
            const { slowConsumer } = declaration;
            if (slowConsumer !== undefined && !isSlowConsumerPolicy(slowConsumer)) {
              throw new Error(
                `@ListenChannel(${JSON.stringify(declaration.pattern)}) on ${handler.owner}: "slowConsumer" must be "close" or "drop", got ${JSON.stringify(slowConsumer)}`,
              );
            }
            let existing: RouteHandler | undefined;
            try {
              existing = channels.add(declaration.pattern, { ...handler, slowConsumer });
            } catch (error) {
              throw new Error(`@ListenChannel(${JSON.stringify(declaration.pattern)}) on ${handler.owner}: ${(error as Error).message}`, {
                cause: error,
              });
            }
            if (existing) {
              throw new Error(
                `@ListenChannel(${JSON.stringify(declaration.pattern)}) on ${handler.owner} matches the same channels as the one on ${existing.owner}`,
              );
            }
            break;
          }
          case 'open':
            open.push(handler);
            break;
          case 'close':
            close.push(handler);
            break;
        }
      }
    }
    return { commands, channels, open, close };
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
      throw new Error(
        `${instance.constructor.name} declares WebSocket handlers but is request-scoped; handlers must live in singleton providers`,
      );
    }
    return found;
  }

  private wrap(wrapper: InstanceWrapper, methodName: string, filters: boolean): RouteHandler {
    const instance = wrapper.instance as object;
    const { invoke, direct } = this.invoker.wrap(instance, methodName, filters);
    return { owner: `${instance.constructor.name}.${methodName}`, invoke, direct, parsesJson: takesJson(instance, methodName) };
  }
}

/**
 * A frame's data is text, but a handler that declares its body as a class (a DTO for
 * `ValidationPipe`), a number or an array, or picks a field with `@MessageBody('name')`,
 * means JSON: such handlers get the data parsed.
 */
function takesJson(instance: object, methodName: string): boolean {
  const params: Record<string, ParamMetadata> =
    Reflect.getMetadata(ROUTE_ARGS_METADATA, instance.constructor, methodName) ?? {};
  const types: unknown[] = Reflect.getMetadata('design:paramtypes', instance, methodName) ?? [];
  return Object.entries(params).some(
    ([key, { index, data }]) =>
      key === `${WsParamtype.PAYLOAD}:${index}` && (data !== undefined || !RAW_BODY_TYPES.has(types[index])),
  );
}
