import type { ChannelSettings } from '../../push/push.constants.js';
import type { ChannelMatcher } from '../channel-matcher.js';
import type { Invoke } from '../handler-invoker.js';

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
  /** Runs the method's guards alone, when Nest reported them; see `WrappedMethod.guard`. */
  readonly guard?: Invoke;
}

/** A `@ListenChannel` method, with what its declaration says about the channels it matches. */
export interface ChannelHandler extends RouteHandler {
  readonly settings: ChannelSettings;
  /** The `@LeaveChannel` method of the same pattern, if one is declared. */
  readonly leave?: RouteHandler;
}

/** Every handler of the application, found once at start-up. */
export interface Handlers {
  readonly commands: ReadonlyMap<string, RouteHandler>;
  readonly channels: ChannelMatcher<ChannelHandler>;
  readonly open: readonly RouteHandler[];
  readonly close: readonly RouteHandler[];
}
