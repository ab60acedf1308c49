import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type ArgumentsHost,
  type CallHandler,
  type CanActivate,
  Catch,
  createParamDecorator,
  type ExceptionFilter,
  type ExecutionContext,
  Injectable,
  type LoggerService,
  type NestInterceptor,
  type PipeTransform,
  UseFilters,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { APP_INTERCEPTOR, ExternalContextCreator } from '@nestjs/core';
import { ConnectedSocket, MessageBody, WsException } from '@nestjs/websockets';
import { map, type Observable, of } from 'rxjs';
import { Command, EasyWsModule, EasyWsSession, ListenChannel, ChannelParam, Message } from 'nestjs-easy-ws';
import { HandlerInvoker } from '../../lib/handlers/handler-invoker.js';
import { HandlerTable } from '../../lib/handlers/handler-table.js';
import { startApp, type RunningApp, type StartOptions } from '../support/app.js';
import { TestClient } from '../support/client.js';

/** The context type and pattern a param decorator sees. */
const Seen = createParamDecorator((_: unknown, context: ExecutionContext) => `${context.getType()}:${context.switchToWs().getPattern()}`);

class Deny implements CanActivate {
  canActivate(): boolean {
    return false;
  }
}

class Shout implements NestInterceptor {
  intercept(_: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((reply) => (reply instanceof Message ? new Message(reply.command, reply.text.toUpperCase()) : reply)));
  }
}

class Exclaim implements PipeTransform {
  transform(value: string): string {
    return `${value}!`;
  }
}

@Catch()
class Caught implements ExceptionFilter {
  catch(error: Error, host: ArgumentsHost): void {
    host.switchToWs().getClient<EasyWsSession>().emit('caught', error.message);
  }
}

/** Methods to which nothing of Nest's pipeline applies: called directly. */
@Injectable()
class Plain {
  @Command('echo')
  echo(@MessageBody() data: string) {
    return new Message('echo', data);
  }

  @Command('raw')
  raw(...args: unknown[]) {
    return new Message('raw', `${args.length} ${args[0] instanceof EasyWsSession} ${String(args[1])} ${String(args[2])}`);
  }

  @Command('gap')
  gap(@ConnectedSocket() session: EasyWsSession, _unused: unknown, @MessageBody() data: string) {
    return new Message('gap', `${typeof session.id} ${String(_unused)} ${data}`);
  }

  @Command('field')
  field(@MessageBody('name') name: string) {
    return new Message('field', name);
  }

  @Command('seen')
  seen(@Seen() seen: string) {
    return new Message('seen', seen);
  }

  @Command('later')
  async later(@MessageBody() data: string) {
    await Promise.resolve();
    return new Message('later', data);
  }

  @Command('stream')
  stream() {
    return of(new Message('stream', '1'), new Message('stream', '2'));
  }

  @Command('refuse')
  refuse() {
    throw new WsException('refused');
  }

  @Command('boom')
  boom() {
    throw new Error('plain failure');
  }

  @ListenChannel('rooms/:room')
  joined(@ChannelParam('room') room: string) {
    return new Message('joined', room);
  }
}

/** The same kinds of methods, with something of Nest's pipeline on each: Nest's wrapper runs. */
@Injectable()
class Enhanced {
  @Command('guarded')
  @UseGuards(Deny)
  guarded() {
    return new Message('guarded', 'should not run');
  }

  @Command('intercepted')
  @UseInterceptors(Shout)
  intercepted(@MessageBody() data: string) {
    return new Message('intercepted', data);
  }

  @Command('piped')
  piped(@MessageBody(Exclaim) data: string) {
    return new Message('piped', data);
  }

  @Command('filtered')
  @UseFilters(Caught)
  filtered() {
    throw new Error('filtered failure');
  }
}

/** Collects what is logged, by context. */
class Logs implements LoggerService {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];
  log(): void {}
  warn(message: unknown): void {
    this.warnings.push(String(message));
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.errors.push(`${String(rest.at(-1))}: ${message instanceof Error ? message.message : String(message)}`);
  }
}

function table(running: RunningApp): HandlerTable {
  return running.app.get(HandlerTable);
}

/** How the suite below builds the application: as it is, or with the fast path ruled out. */
interface Mode {
  readonly title: string;
  /** The commands whose handlers are called directly. */
  readonly direct: readonly string[];
  readonly prepare?: StartOptions['prepare'];
}

const AS_IT_IS: Mode = {
  title: 'handlers that nothing of Nest applies to',
  direct: ['boom', 'echo', 'field', 'gap', 'later', 'raw', 'refuse', 'seen', 'stream'],
};

/** A Nest whose context creator lacks a member the fast path looks into: every handler takes Nest's full pipeline. */
const WITHOUT_NEST_INTERNALS: Mode = {
  title: 'the same handlers on a Nest that lacks a member the fast path relies on',
  direct: [],
  prepare: (builder) =>
    builder.overrideProvider(HandlerInvoker).useFactory({
      factory: (creator: ExternalContextCreator) => new HandlerInvoker(creator, ['interceptorsContextCreator.create']),
      inject: [ExternalContextCreator],
    }),
};

for (const mode of [AS_IT_IS, WITHOUT_NEST_INTERNALS]) {
  describe(mode.title, () => {
    let running: RunningApp;
    let client: TestClient;
    const logs = new Logs();
    before(async () => {
      running = await startApp({ imports: [EasyWsModule.forRoot()], providers: [Plain, Enhanced] }, { logger: logs, prepare: mode.prepare });
      client = await TestClient.connect(running.url());
    });
    after(async () => {
      await client.close();
      await running.close();
    });

    test('are called directly where nothing of Nest applies, unless Nest lacks what that needs; the others keep Nest’s wrapper', () => {
      const { commands, channels } = table(running);
      const direct = [...commands].filter(([, handler]) => handler.direct).map(([command]) => command);
      assert.deepEqual(direct.sort(), mode.direct);
      assert.equal(channels.match('rooms/1')?.target.direct, mode.direct.length > 0);
      const warned = logs.warnings.filter((line) => line.includes("every handler runs through Nest's full pipeline"));
      assert.equal(warned.length, mode.direct.length > 0 ? 0 : 1, 'the fallback is logged once, with the missing member');
    });
    test('get their parameters as Nest gives them', async () => {
      assert.equal(await client.request('echo: hi'), 'echo: hi');
      assert.equal(await client.request('raw: x'), 'raw: 3 true x raw');
      assert.equal(await client.request('gap: y'), 'gap: string undefined y');
      assert.equal(await client.request('field: {"name":"ada"}'), 'field: ada');
      assert.equal(await client.request('seen: z'), 'seen: ws:seen');
      client.send('listen: rooms/42');
      assert.equal(await client.next(), 'joined: 42');
    });

    test('send what they return, resolved or streamed', async () => {
      assert.equal(await client.request('later: soon'), 'later: soon');
      assert.equal(await client.request('stream: '), 'stream: 1');
      assert.equal(await client.next(), 'stream: 2');
    });

    test('fail as through Nest: the notice, and the same log lines', async () => {
      assert.equal(await client.request('refuse: '), 'websocket: refused');
      logs.errors.length = 0;
      assert.equal(await client.request('boom: '), 'websocket: internal server error');
      assert.deepEqual(logs.errors, ['EasyWs: Plain.boom failed: plain failure'], 'logged once, by the router');
    });

    test('leave guards, interceptors, pipes and filters to Nest', async () => {
      assert.equal(await client.request('guarded: '), 'websocket: not authorized');
      assert.equal(await client.request('intercepted: quiet'), 'intercepted: QUIET');
      assert.equal(await client.request('piped: wow'), 'piped: wow!');
      assert.equal(await client.request('filtered: '), 'caught: filtered failure');
    });
  });
}

test('a global interceptor keeps every handler on Nest’s wrapper', async () => {
  const running = await startApp({
    imports: [EasyWsModule.forRoot()],
    providers: [Plain, { provide: APP_INTERCEPTOR, useClass: Shout }],
  });
  try {
    assert.equal([...table(running).commands.values()].filter((handler) => handler.direct).length, 0);
    const client = await TestClient.connect(running.url());
    assert.equal(await client.request('echo: hi'), 'echo: HI');
    await client.close();
  } finally {
    await running.close();
  }
});
