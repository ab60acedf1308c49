import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { type AsyncApiDocument, CLOSE_CODES, Command, createAsyncApiDocument, EasyWsModule, ListenChannel, NOTICES } from 'nestjs-easy-ws';
import { HandlerTable } from '../../lib/handlers/handler-table.js';
import { AppModule } from '../../sample/app.module.js';
import { startApp, type RunningApp } from '../support/app.js';
import { chatFixture } from '../support/chat-fixture.js';

type Parsed = NonNullable<Awaited<ReturnType<Parser['parse']>>['document']>;

/** The sample's document as a client team gets it: over HTTP, and as an AsyncAPI tool reads it. */
let running: RunningApp;
let served: Response;
let document: AsyncApiDocument;
let parsed: Parsed;
let problems: string[];

before(async () => {
  running = await startApp({ imports: [AppModule] });
  served = await fetch(`http://127.0.0.1:${running.port}/ws/asyncapi.json`);
  document = (await served.json()) as AsyncApiDocument;
  const result = await new Parser().parse(document as never);
  // Errors and warnings; the one hint is that AsyncAPI 3.1 exists, and 3.0 is what the document declares.
  problems = result.diagnostics
    .filter((diagnostic) => diagnostic.severity <= DiagnosticSeverity.Warning)
    .map((diagnostic) => `${diagnostic.path.join('.')}: ${diagnostic.code}: ${diagnostic.message}`);
  assert.ok(result.document, `the parser read no document:\n${problems.join('\n')}`);
  parsed = result.document;
});
after(() => running.close());

/** The sample's declarations, as the handler table found them. */
function declared() {
  return running.app.get(HandlerTable).declared;
}

/** The commands of frames a declaration names in `replies` or `pushes`. */
const commands = (frames: ReadonlyArray<string | { command: string }> | undefined): string[] =>
  (frames ?? []).map((frame) => (typeof frame === 'string' ? frame : frame.command));

describe("the sample's AsyncAPI document", () => {
  test('is served as JSON at asyncapi.path and validates with @asyncapi/parser, without errors or warnings', () => {
    assert.equal(served.status, 200);
    assert.match(served.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(document.asyncapi, '3.0.0');
    assert.deepEqual(problems, []);
  });

  test('is the document createAsyncApiDocument builds from the application', async () => {
    assert.deepEqual(await createAsyncApiDocument(running.app), document);
  });

  test('lists every command: what the client sends, and the declared replies', () => {
    const declaredCommands = declared().flatMap(({ declaration }) => (declaration.kind === 'command' ? [declaration] : []));
    assert.deepEqual(declaredCommands.map(({ command }) => command).sort(), ['echo', 'say']);
    const received = parsed
      .operations()
      .all()
      .filter((operation) => operation.action() === 'receive' && operation.channels().all()[0]?.address() === null && operation.id() !== 'requests');
    assert.deepEqual(received.map((operation) => operation.messages().all()[0]?.name()).sort(), ['echo', 'say']);
    const requests = parsed.operations().all().find((operation) => operation.id() === 'requests');
    assert.equal(requests?.messages().all()[0]?.title(), "Request (easy-ws.v1)", "the protocol's own requests are listed beside the application's commands");
    for (const { command, replies } of declaredCommands) {
      const operation = received.find((each) => each.messages().all()[0]?.name() === command);
      const answers = operation?.reply()?.messages().all().map((message) => message.name()) ?? [];
      assert.deepEqual(answers, [...commands(replies), 'websocket', 'websocket'], `the replies of ${command}`);
    }
  });

  test('lists every channel pattern with its parameters, its listen and unlisten, its first frames and its pushes', () => {
    const declaredChannels = declared().flatMap(({ declaration }) => (declaration.kind === 'channel' ? [declaration] : []));
    assert.deepEqual(declaredChannels.map(({ pattern }) => pattern).sort(), ['news', 'rooms/:room']);
    for (const { pattern, replies, pushes } of declaredChannels) {
      const address = pattern.replace(/:(\w+)/g, '{$1}');
      const channel = parsed.channels().all().find((each) => each.address() === address);
      assert.ok(channel, `a channel with the address ${address}`);
      assert.deepEqual(channel.parameters().all().map((parameter) => parameter.id()), [...pattern.matchAll(/:(\w+)/g)].map(([, name]) => name));
      const operations = channel.operations().all();
      const named = (action: string, message: string) =>
        operations.find((operation) => operation.action() === action && operation.messages().all()[0]?.name() === message);
      const listen = named('receive', 'listen');
      assert.deepEqual(listen?.reply()?.messages().all().map((message) => message.name()), [...commands(replies), 'websocket', 'websocket']);
      assert.ok(named('receive', 'unlisten'), `unlisten on ${pattern}`);
      const pushed = operations.find((operation) => operation.action() === 'send');
      assert.deepEqual(pushed?.messages().all().map((message) => message.name()) ?? [], commands(pushes));
    }
    assert.deepEqual(parsed.channels().all().find((each) => each.address() === 'rooms/{room}')?.parameters().all().map((each) => each.id()), ['room']);
  });

  test("gives say's payload as the JSON Schema of SayDto's class-validator decorators, and echo's as text", () => {
    const { messages, schemas } = document.components;
    assert.deepEqual(messages['client.say'].payload, { $ref: '#/components/schemas/SayDto' });
    assert.equal(messages['client.say'].contentType, 'application/json');
    assert.deepEqual(schemas.SayDto, {
      type: 'object',
      required: ['room', 'text'],
      properties: {
        room: { type: 'string', pattern: '^[\\w-]{1,32}$' },
        text: { type: 'string', minLength: 1, maxLength: 500 },
      },
    });
    assert.deepEqual(schemas.SaidFrame.required, ['room', 'user', 'text']);
    assert.deepEqual(messages['server.said'].payload, { $ref: '#/components/schemas/SaidFrame' });
    assert.deepEqual({ ...messages['client.echo'].payload, contentType: messages['client.echo'].contentType }, { type: 'string', contentType: 'text/plain' });
  });

  test('describes the server: path, subprotocols, the token and its check, the open hook and pushes to sessions', () => {
    const server = document.servers.endpoint;
    assert.deepEqual({ host: server.host, protocol: server.protocol, pathname: server.pathname }, { host: 'localhost:3000', protocol: 'ws', pathname: '/ws' });
    for (const text of ['easy-ws.v1', 'cmd.fossores.de', 'the cookie `auth`', '**403** `Authentication failed`', '**403** `Origin not allowed`']) {
      assert.ok(server.description.includes(text), `the server's description names ${text}`);
    }
    assert.deepEqual(document.components.securitySchemes.token, { type: 'httpApiKey', in: 'cookie', name: 'auth', description: 'The token, the cookie `auth`.' });
    assert.deepEqual(server.security, [{ $ref: '#/components/securitySchemes/token' }]);
    const sent = (id: string) => parsed.operations().get(id)?.messages().all().map((message) => message.name());
    assert.deepEqual(sent('open.ChatCommands.welcome'), ['welcome']);
    assert.deepEqual(sent('pushToSessions'), ['direct']);
  });

  test('lists the notices in both forms and every close code the server chooses', () => {
    const { notice, acknowledgement } = document.components.messages;
    assert.deepEqual(notice.payload.examples, Object.values(NOTICES));
    assert.deepEqual((acknowledgement.payload.properties as { op: { enum: string[] } }).op.enum, ['listen', 'unlisten', 'recover', 'presence', 'refresh', 'command', 'frame', 'open']);
    assert.deepEqual((document.components.messages.event.payload.properties as { event: { enum: string[] } }).event.enum, ['position', 'dropped', 'presence', 'expiring', 'left']);
    const closes = document.channels.connection['x-easy-ws-close-codes'] ?? [];
    for (const code of Object.values(CLOSE_CODES)) {
      assert.ok(closes.some((close) => close.code === code), `close code ${code}`);
    }
    assert.equal(closes.find((close) => close.code === 1009)?.when, 'A frame was larger than 65536 bytes (`maxPayload`).');
  });
});

/** A frame declared with two payloads: the document cannot say which one a client gets. */
@Injectable()
class Conflicting {
  @Command('a', { replies: [{ command: 'same', payload: String }] })
  a() {}

  @ListenChannel('b', { pushes: [{ command: 'same', payload: Number }] })
  b() {}
}

describe('turning it on and off', () => {
  test('without asyncapi.path nothing is served, and createAsyncApiDocument builds it all the same', async () => {
    const plain = await startApp(chatFixture());
    try {
      assert.equal((await fetch(`http://127.0.0.1:${plain.port}/ws/asyncapi.json`)).status, 404);
      const built = await createAsyncApiDocument(plain.app, { title: 'Chat', version: '2.0.0' });
      assert.deepEqual(built.info, { title: 'Chat', version: '2.0.0' });
      assert.ok(built.operations['command.echo'], 'the fixture has the command echo');
    } finally {
      await plain.close();
    }
  });

  test('createAsyncApiDocument says what is missing: EasyWsModule, or app.init()', async () => {
    const bare = await startApp({});
    const moduleRef = await Test.createTestingModule(chatFixture()).compile();
    const uninitialised = moduleRef.createNestApplication({ logger: false });
    try {
      await assert.rejects(createAsyncApiDocument(bare.app), { code: 'EASY_WS_INVALID_ARGUMENT', message: /does not import EasyWsModule/ });
      await assert.rejects(createAsyncApiDocument(uninitialised), { code: 'EASY_WS_NOT_STARTED', message: /await app\.init\(\) first/ });
    } finally {
      await Promise.all([bare.close(), uninitialised.close()]);
    }
  });

  test('a frame declared with two payloads stops start-up when the document is served, naming both declarations', async () => {
    await assert.rejects(startApp({ imports: [EasyWsModule.forRoot({ asyncapi: { path: '/asyncapi.json' } })], providers: [Conflicting] }), {
      code: 'EASY_WS_INVALID_DECLARATION',
      message: /The frame "same" is declared with two payloads, on @Command\("a"\) on Conflicting\.a and on @ListenChannel\("b"\) on Conflicting\.b/,
    });
  });

  test('options that cannot work are refused where the module is declared', () => {
    assert.throws(() => EasyWsModule.forRoot({ asyncapi: { path: 'asyncapi.json' } }), { code: 'EASY_WS_INVALID_OPTIONS', message: /"asyncapi.path" must start with "\/"/ });
    assert.throws(() => EasyWsModule.forRoot({ asyncapi: { protocol: 'http' as 'ws' } }), { code: 'EASY_WS_INVALID_OPTIONS', message: /"asyncapi.protocol"/ });
    assert.throws(() => EasyWsModule.forRoot({ asyncapi: { title: '' } }), { code: 'EASY_WS_INVALID_OPTIONS', message: /"asyncapi.title"/ });
  });

  test('an application without class-validator-jsonschema runs, and needs it only to describe a payload class', async () => {
    const probe = fileURLToPath(new URL('../support/optional-package-probe.js', import.meta.url));
    const hide = new URL('../support/hidden-packages.js', import.meta.url).href;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', hide, probe], {
      env: { ...process.env, HIDDEN_PACKAGES: 'class-validator-jsonschema' },
    });
    assert.deepEqual(JSON.parse(stdout), {
      importable: 'ERR_MODULE_NOT_FOUND',
      withoutDocument: 'echo: served',
      withTextPayloads: 'served',
      withPayloadClass: {
        code: 'EASY_WS_MISSING_PACKAGE',
        message:
          'EasyWs: the AsyncAPI document needs the package "class-validator-jsonschema" for describing Body from their class-validator ' +
          'decorators; install it: npm install class-validator-jsonschema',
      },
      withMetrics: 'echo: served',
    });
  });
});
