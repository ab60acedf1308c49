import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type CallHandler,
  type CanActivate,
  Catch,
  type ExceptionFilter,
  type ExecutionContext,
  Injectable,
  Module,
  type NestInterceptor,
  SetMetadata,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
  ValidationPipe,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  BaseWsExceptionFilter,
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WsException,
} from '@nestjs/websockets';
import { IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { map, Observable, of, throwError, concat } from 'rxjs';
import {
  ChannelParam,
  Command,
  EasyWsAdapter,
  EasyWsModule,
  type EasyWsSession,
  ListenChannel,
  Message,
  OnOpen,
  PushService,
} from 'nestjs-easy-ws';
import { startApp, type RunningApp } from '../support/app.js';
import { TestClient } from '../support/client.js';
import { upgradeRequest } from '../support/http.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { SessionTracker } from '../support/session-tracker.js';

/**
 * A guard as one writes it for a Nest gateway: the client from `getClient()`, the
 * payload from `getData()`. The client must have the cookie `auth=member`, and a
 * payload may not ask for `forbidden` things.
 */
@Injectable()
class MemberGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const client = context.switchToWs().getClient<{ token?: string }>();
    const data = context.switchToWs().getData<unknown>();
    return context.getType() === 'ws' && client.token === 'member' && !JSON.stringify(data ?? '').includes('forbidden');
  }
}

const ROLES = 'roles';
/** A custom decorator, read by `RolesGuard` through the Reflector. */
const Roles = (...roles: string[]) => SetMetadata(ROLES, roles);

@Injectable()
class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}
  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<string[] | undefined>(ROLES, [context.getHandler(), context.getClass()]);
    return !roles || roles.includes(context.switchToWs().getClient<EasyWsSession>().token ?? '');
  }
}

/** A session whose token is `banned` may not open. */
@Injectable()
class NotBannedGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToWs().getClient<EasyWsSession>().token !== 'banned';
  }
}

class NoteDto {
  @IsString()
  @MaxLength(10)
  title!: string;

  @IsInt()
  @Min(1)
  @Max(5)
  priority!: number;
}

@Injectable()
class UpperCaseInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((reply: Message) => new Message(reply.command, `${context.getType()} ${reply.text.toUpperCase()}`)));
  }
}

@Catch(RangeError)
class RangeErrorFilter implements ExceptionFilter {
  catch(error: RangeError) {
    return new Message('range', error.message);
  }
}

@Catch()
class CatchEverythingFilter implements ExceptionFilter {
  catch(error: Error) {
    return new Message('caught', error.message);
  }
}

/** A class-level filter that catches everything, guard denials included. */
@Injectable()
@UseFilters(CatchEverythingFilter)
class FilteredCommands {
  @Command('crash')
  crash() {
    throw new Error('crashed');
  }

  @Command('adminOnly')
  @Roles('admin')
  @UseGuards(RolesGuard)
  adminOnly() {
    return new Message('adminOnly', 'welcome');
  }

  @ListenChannel('vip')
  @Roles('admin')
  @UseGuards(RolesGuard)
  vip() {}
}

/** Resolves the promises a test hands out, so that a handler can wait for a test's signal. */
class Signals {
  private readonly waiting = new Map<string, () => void>();
  private readonly promises = new Map<string, Promise<void>>();
  wait(name: string): Promise<void> {
    if (!this.promises.has(name)) {
      this.promises.set(name, new Promise<void>((resolve) => this.waiting.set(name, resolve)));
    }
    return this.promises.get(name) as Promise<void>;
  }
  fire(name: string): void {
    void this.wait(name);
    this.waiting.get(name)?.();
  }
}
const signals = new Signals();
let slowOpenSessionId: string | undefined;

@Injectable()
class IntegrationCommands {
  /**
   * Slow on purpose: the client's first frames arrive while it runs. For the token
   * `slow-open` it also outlives the connection: it waits for the test's signal.
   */
  @OnOpen()
  @UseGuards(NotBannedGuard)
  async ready(@ConnectedSocket() session: EasyWsSession) {
    for (let turn = 0; turn < 5; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (session.token === 'slow-open') {
      slowOpenSessionId = session.id;
      session.onceClosed(() => signals.fire('slow-open:socket closed'));
      signals.fire('slow-open:running');
      await signals.wait('slow-open:release');
    }
    return new Message('ready', session.token ?? 'anonymous');
  }

  @Command('echo')
  echo(@MessageBody() data: string) {
    return new Message('echo', data);
  }

  @Command('members')
  @UseGuards(MemberGuard)
  members(@MessageBody() data: string) {
    return new Message('members', data);
  }

  @Command('admin')
  @Roles('admin')
  @UseGuards(RolesGuard)
  admin() {
    return new Message('admin', 'welcome, admin');
  }

  @ListenChannel('club/:room')
  @UseGuards(MemberGuard)
  club(@ChannelParam('room') room: string) {
    return new Message('club', room);
  }

  @ListenChannel('staff')
  @Roles('admin')
  @UseGuards(RolesGuard)
  staff() {
    return new Message('staff', 'joined');
  }

  @Command('note')
  @UsePipes(
    new ValidationPipe({
      transform: true,
      exceptionFactory: (errors) => new WsException(`invalid note: ${errors.map((error) => error.property).join(', ')}`),
    }),
  )
  note(@MessageBody() note: NoteDto) {
    return new Message('note', { ...note, isDto: note instanceof NoteDto });
  }

  @Command('title')
  title(@MessageBody('title') title: string) {
    return new Message('title', title);
  }

  @Command('shout')
  @UseInterceptors(UpperCaseInterceptor)
  shout(@MessageBody() data: string) {
    return new Message('shout', data);
  }

  @Command('range')
  @UseFilters(RangeErrorFilter)
  range() {
    throw new RangeError('out of range');
  }

  @Command('gatewayFilter')
  @UseFilters(new BaseWsExceptionFilter())
  gatewayFilter() {
    throw new WsException('handled by the filter');
  }

  /** `count: n` answers `count: 1` … `count: n`, one per turn of the event loop. */
  @Command('count')
  count(@MessageBody() data: string) {
    return new Observable<Message>((subscriber) => {
      let sent = 0;
      const tick = (): void => {
        if (sent === Number(data)) {
          subscriber.complete();
          return;
        }
        subscriber.next(new Message('count', String(++sent)));
        setImmediate(tick);
      };
      setImmediate(tick);
    });
  }

  @Command('countThenFail')
  countThenFail() {
    return concat(of(new Message('count', 'only')), throwError(() => new WsException('stream failed')));
  }

  @Command('badStream')
  badStream() {
    return of(new Message('good', 'first'), 'not a message');
  }

  /** Waits for the test's signal, then answers with an endless stream that reports its end. */
  @Command('endless')
  async endless(@MessageBody() name: string) {
    signals.fire(`${name}:started`);
    await signals.wait(`${name}:go`);
    return new Observable<Message>((subscriber) => {
      const timer = setInterval(() => subscriber.next(new Message('tick')), 5);
      timer.unref();
      subscriber.next(new Message('tick'));
      return () => {
        clearInterval(timer);
        signals.fire(`${name}:stopped`);
      };
    });
  }
}

describe('Nest features on commands and channels', () => {
  let running: RunningApp;
  let tracker: SessionTracker;
  const logger = new RecordingLogger();

  before(async () => {
    running = await startApp(
      {
        imports: [EasyWsModule.forRoot()],
        providers: [IntegrationCommands, FilteredCommands, SessionTracker, MemberGuard, RolesGuard, NotBannedGuard],
      },
      { logger },
    );
    tracker = running.app.get(SessionTracker);
  });
  after(() => running.close());

  /** Connects with `auth=<token>` and reads the two open greetings. */
  async function connect(token?: string): Promise<{ client: TestClient; id: string }> {
    const client = await TestClient.connect(running.url(), { headers: token ? { Cookie: `auth=${token}` } : {} });
    const greetings = [await client.next(), await client.next()].sort();
    assert.equal(greetings[0], `ready: ${token ?? 'anonymous'}`);
    const id = greetings[1].replace('welcome: Hello ', '');
    return { client, id };
  }

  test('the open hooks\' replies are the first frames, even when the client speaks first', async () => {
    const client = await TestClient.connect(running.url(), { headers: { Cookie: 'auth=early' } });
    client.send('echo: spoke first');
    const frames = [await client.next(), await client.next(), await client.next()];
    assert.deepEqual(frames.slice(0, 2).map((frame) => frame.split(':')[0]).sort(), ['ready', 'welcome']);
    assert.equal(frames[2], 'echo: spoke first');
    await client.close();
  });

  test('a guard on the open hook that denies: `websocket: not authorized`, then the connection closes', async () => {
    const client = await TestClient.connect(running.url(), { headers: { Cookie: 'auth=banned' } });
    assert.equal((await client.closed).code, 1008);
    const frames = await client.remaining();
    assert.equal(frames.at(-1), 'websocket: not authorized');
    assert.ok(!frames.some((frame) => frame.startsWith('ready')), frames.join(' | '));
  });

  test('a guard written for a Nest gateway works unchanged on a command and on a channel', async () => {
    const member = await connect('member');
    const guest = await connect('guest');
    assert.equal(await member.client.request('members: hello'), 'members: hello');
    assert.equal(await member.client.request('members: forbidden'), 'websocket: not authorized');
    assert.equal(await guest.client.request('members: hello'), 'websocket: not authorized');
    assert.equal(await member.client.request('listen: club/chess'), 'club: chess');
    assert.equal(await member.client.request('listen: club/forbidden'), 'websocket: not authorized');
    assert.equal(await guest.client.request('listen: club/chess'), 'websocket: not authorized');
    await Promise.all([member.client.close(), guest.client.close()]);
  });

  test('a guard that reads a custom decorator through the Reflector works on a command and on a channel', async () => {
    const admin = await connect('admin');
    const member = await connect('member');
    assert.equal(await admin.client.request('admin: '), 'admin: welcome, admin');
    assert.equal(await member.client.request('admin: '), 'websocket: not authorized');
    assert.equal(await admin.client.request('listen: staff'), 'staff: joined');
    assert.equal(await member.client.request('listen: staff'), 'websocket: not authorized');
    await Promise.all([admin.client.close(), member.client.close()]);
  });

  test('ValidationPipe validates and transforms a JSON body into its DTO', async () => {
    const { client } = await connect();
    assert.equal(await client.request('note: {"title":"milk","priority":2}'), 'note: {"title":"milk","priority":2,"isDto":true}');
    assert.equal(await client.request('note: {"title":"a title far too long","priority":9}'), 'websocket: invalid note: title, priority');
    assert.equal(await client.request('note: {"title":"milk"}'), 'websocket: invalid note: priority');
    assert.equal(await client.request('note: not json'), 'websocket: data is not valid JSON');
    assert.equal(await client.request('note: '), 'websocket: data is not valid JSON');
    await client.close();
  });

  test('@MessageBody(\'field\') picks one field of a JSON body', async () => {
    const { client } = await connect();
    assert.equal(await client.request('title: {"title":"picked","other":1}'), 'title: picked');
    assert.equal(await client.request('title: {oops'), 'websocket: data is not valid JSON');
    await client.close();
  });

  test('an interceptor sees the ws context and maps the reply', async () => {
    const { client } = await connect();
    assert.equal(await client.request('shout: quiet words'), 'shout: ws QUIET WORDS');
    await client.close();
  });

  test('an exception filter that returns a Message answers instead of the notice', async () => {
    const { client } = await connect();
    assert.equal(await client.request('range: '), 'range: out of range');
    assert.equal(await client.request('echo: nothing else'), 'echo: nothing else');
    await client.close();
  });

  test('Nest\'s BaseWsExceptionFilter answers through session.emit, and that is the whole answer', async () => {
    const { client } = await connect();
    assert.equal(
      await client.request('gatewayFilter: x'),
      'exception: {"status":"error","message":"handled by the filter","cause":{"pattern":"gatewayFilter","data":"x"}}',
    );
    assert.equal(await client.request('echo: nothing else'), 'echo: nothing else');
    await client.close();
  });

  test('a catch-all filter answers for commands, guard denials included, but never opens a channel its guard denies', async () => {
    const admin = await connect('admin');
    const member = await connect('member');
    assert.equal(await member.client.request('crash: '), 'caught: crashed');
    assert.equal(await member.client.request('adminOnly: '), 'caught: Forbidden resource');
    assert.equal(await admin.client.request('adminOnly: '), 'adminOnly: welcome');
    assert.equal(await member.client.request('listen: vip'), 'websocket: not authorized');
    admin.client.send('listen: vip');
    assert.equal(await admin.client.request('echo: listening'), 'echo: listening');
    await running.app.get(PushService).toChannel('vip', new Message('vip', 'for admins'));
    assert.equal(await admin.client.next(), 'vip: for admins');
    assert.equal(await member.client.request('echo: nothing came'), 'echo: nothing came');
    await Promise.all([admin.client.close(), member.client.close()]);
  });

  test('an Observable reply sends each emission, in order, before the reply to a later frame', async () => {
    const { client } = await connect();
    client.send('count: 4');
    client.send('echo: after the stream');
    const frames = await Promise.all(Array.from({ length: 5 }, () => client.next()));
    assert.deepEqual(frames, ['count: 1', 'count: 2', 'count: 3', 'count: 4', 'echo: after the stream']);
    await client.close();
  });

  test('an Observable that fails after emitting: the emissions, then the notice', async () => {
    const { client } = await connect();
    assert.equal(await client.request('countThenFail: '), 'count: only');
    assert.equal(await client.next(), 'websocket: stream failed');
    await client.close();
  });

  test('an Observable that emits something other than a Message: internal server error, and the server carries on', { timeout: 5000 }, async () => {
    const { client } = await connect();
    const mark = logger.entries.length;
    assert.equal(await client.request('badStream: '), 'good: first');
    assert.equal(await client.next(), 'websocket: internal server error');
    assert.match(logger.errorsSince(mark).join('\n'), /IntegrationCommands\.badStream returned a string/);
    assert.equal(await client.request('echo: alive'), 'echo: alive');
    await client.close();
  });

  test('an endless Observable is unsubscribed when the client leaves', async () => {
    const { client } = await connect();
    client.send('endless: leaving');
    signals.fire('leaving:go');
    assert.equal(await client.next(), 'tick: ');
    await client.close();
    await signals.wait('leaving:stopped');
  });

  test('an endless Observable returned after the client left is unsubscribed at once', { timeout: 5000 }, async () => {
    const { client, id } = await connect();
    client.send('endless: gone');
    await signals.wait('gone:started');
    await client.close();
    await tracker.whenClosed(id);
    signals.fire('gone:go');
    await signals.wait('gone:stopped');
  });

  test('@OnClose waits for the open hooks of its session to finish', async () => {
    const bystander = await connect();
    const client = await TestClient.connect(running.url(), { headers: { Cookie: 'auth=slow-open' } });
    await signals.wait('slow-open:running');
    await client.close();
    await signals.wait('slow-open:socket closed');
    // A round trip through the server: whatever the close set off without waiting has run by now.
    assert.equal(await bystander.client.request('echo: round trip'), 'echo: round trip');
    const id = slowOpenSessionId as string;
    assert.equal(tracker.hasClosed(id), false, 'the close hook ran while the open hook was still running');
    signals.fire('slow-open:release');
    await tracker.whenClosed(id);
    await bystander.client.close();
  });

  test('@OnClose runs with the session once it has closed', async () => {
    const { client, id } = await connect('member');
    client.send('listen: club/chess');
    assert.equal(await client.next(), 'club: chess');
    await client.close();
    const session = await tracker.whenClosed(id);
    assert.equal(session.id, id);
    assert.equal(session.token, 'member');
    assert.equal(session.isOpen, false);
    assert.equal(session.channels.size, 0);
  });
});

describe('forRootAsync', () => {
  @Injectable()
  class ConfigService {
    private readonly values: Record<string, string> = { WS_PATH: '/live', WS_SECRET: 's3cret' };
    get(key: string): string {
      return this.values[key];
    }
  }

  @Module({ providers: [ConfigService], exports: [ConfigService] })
  class ConfigModule {}

  test('builds the options from injected providers; shutdown closes clients with 1001 after their close hooks', async () => {
    const running = await startApp({
      imports: [
        EasyWsModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: async (config: ConfigService) => ({
            path: config.get('WS_PATH'),
            authenticate: (token: string) => token === config.get('WS_SECRET'),
          }),
        }),
      ],
      providers: [SessionTracker],
    });
    const refused = await upgradeRequest(running.port, '/live', { Cookie: 'auth=guess' });
    assert.equal(refused.status, 403);
    const client = await TestClient.connect(running.url('/live'), { headers: { Cookie: 'auth=s3cret' } });
    const id = await client.sessionId();
    let hookRan = false;
    void running.app.get(SessionTracker).whenClosed(id).then(() => (hookRan = true));
    await running.close();
    assert.equal(hookRan, true, 'the close hook ran before the application finished closing');
    assert.equal((await client.closed).code, 1001);
  });
});

describe('declarations that cannot work stop start-up', () => {
  @Injectable()
  class FirstEcho {
    @Command('echo')
    echo() {}
  }
  @Injectable()
  class SecondEcho {
    @Command('echo')
    echo() {}
  }
  @Injectable()
  class FirstRooms {
    @ListenChannel('rooms/:id')
    rooms() {}
  }
  @Injectable()
  class SecondRooms {
    @ListenChannel('rooms/:room')
    rooms() {}
  }
  @Injectable()
  class FirstNews {
    @ListenChannel('news')
    news() {}
  }
  @Injectable()
  class SecondNews {
    @ListenChannel('news')
    headlines() {}
  }
  @Injectable()
  class ReservedListen {
    @Command('listen')
    listen() {}
  }
  @Injectable()
  class ReservedWebsocket {
    @Command('websocket')
    notice() {}
  }
  @Injectable()
  class ColonCommand {
    @Command('chat:send')
    send() {}
  }
  @Injectable()
  class EmptyCommand {
    @Command('')
    nothing() {}
  }
  @Injectable()
  class LongCommand {
    @Command('c'.repeat(256))
    long() {}
  }
  @Injectable()
  class BadPattern {
    @ListenChannel('rooms/:')
    rooms() {}
  }

  const cases: Array<[string, unknown[], RegExp[]]> = [
    ['a command declared by two providers', [FirstEcho, SecondEcho], [/FirstEcho\.echo/, /SecondEcho\.echo/, /"echo"/]],
    ['two patterns that match the same channels', [FirstRooms, SecondRooms], [/FirstRooms\.rooms/, /SecondRooms\.rooms/]],
    ['a channel declared by two providers', [FirstNews, SecondNews], [/FirstNews\.news/, /SecondNews\.headlines/]],
    ['the reserved command "listen"', [ReservedListen], [/ReservedListen\.listen/, /reserved/]],
    ['the reserved command "websocket"', [ReservedWebsocket], [/ReservedWebsocket\.notice/, /reserved/]],
    ['a command with ":"', [ColonCommand], [/ColonCommand\.send/, /":"/]],
    ['an empty command', [EmptyCommand], [/EmptyCommand\.nothing/]],
    ['a command over 255 bytes', [LongCommand], [/LongCommand\.long/, /255 bytes/]],
    ['a pattern with a nameless param', [BadPattern], [/BadPattern\.rooms/, /param/]],
  ];
  for (const [situation, providers, expected] of cases) {
    test(`${situation}: the error names the classes`, async () => {
      await assert.rejects(
        startApp({ imports: [EasyWsModule.forRoot()], providers: providers as Array<new () => unknown> }),
        (error: Error) => expected.every((pattern) => pattern.test(error.message)) || assert.fail(error.message),
      );
    });
  }
});

describe('EasyWsAdapter for a plain Nest gateway', () => {
  @WebSocketGateway({ path: '/gw' })
  class PlainGateway {
    @SubscribeMessage('x')
    x(@MessageBody() data: string) {
      return { event: 'y', data: `got ${data}` };
    }

    @SubscribeMessage('upper')
    upper(@MessageBody() data: string) {
      return data.toUpperCase();
    }

    @SubscribeMessage('who')
    who(@ConnectedSocket() client: EasyWsSession) {
      return new Message('who', client.id.length === 36 ? 'a session' : 'unknown');
    }

    @SubscribeMessage('quiet')
    quiet() {}

    @SubscribeMessage('fail')
    fail() {
      throw new WsException('gateway says no');
    }
  }

  let running: RunningApp;
  before(async () => {
    running = await startApp(
      { providers: [PlainGateway] },
      { configure: (app) => app.useWebSocketAdapter(new EasyWsAdapter(app.getHttpServer())) },
    );
  });
  after(() => running.close());

  test('@SubscribeMessage handlers answer `command: data` frames', async () => {
    const client = await TestClient.connect(running.url('/gw'));
    assert.equal(await client.request('x: hi'), 'y: got hi');
    assert.equal(await client.request('upper: shout'), 'upper: SHOUT');
    assert.equal(await client.request('who: '), 'who: a session');
    client.send('quiet: x');
    assert.equal(await client.request('nope: x'), 'websocket: command not supported by server');
    assert.equal(await client.request('fail: x'), 'exception: {"status":"error","message":"gateway says no","cause":{"pattern":"fail","data":"x"}}');
    await client.close();
  });
});
