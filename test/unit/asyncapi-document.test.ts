import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import 'reflect-metadata';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { IsInt, Min, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
import type { AsyncApiDocument, EndpointOptions, HandlerDocumentation, ListenChannelOptions } from 'nestjs-easy-ws';
import { resolveAsyncApiOptions } from '../../lib/asyncapi/asyncapi-options.js';
import { buildAsyncApiDocument } from '../../lib/asyncapi/document-builder.js';
import { resolveEndpointOptions } from '../../lib/endpoint/endpoint-options.js';
import type { BodyParam, DeclaredHandler } from '../../lib/handlers/interfaces/route-handler.interface.js';

class Position {
  @IsInt()
  @Min(0)
  x!: number;
}

class Move {
  @ValidateNested()
  @Type(() => Position)
  to!: Position;
}

const command = (name: string, body: BodyParam[] = [], options: HandlerDocumentation = {}): DeclaredHandler => ({
  owner: `Commands.${name}`,
  declaration: { ...options, kind: 'command', command: name },
  body,
});

const channel = (pattern: string, options: ListenChannelOptions = {}): DeclaredHandler => ({
  owner: `Channels.${pattern}`,
  declaration: { ...options, kind: 'channel', pattern },
  body: [],
});

function build(declared: DeclaredHandler[], endpoint: EndpointOptions = {}, pushes: HandlerDocumentation['replies'] = []): Promise<AsyncApiDocument> {
  return buildAsyncApiDocument({ declared, endpoint: resolveEndpointOptions(endpoint), options: resolveAsyncApiOptions({ pushes }) });
}

/** The parser's errors and warnings; only the hint that AsyncAPI 3.1 exists is allowed. */
async function problems(document: AsyncApiDocument): Promise<string[]> {
  const { diagnostics } = await new Parser().parse(document as never);
  return diagnostics.filter((each) => each.severity <= DiagnosticSeverity.Warning).map((each) => `${each.path.join('.')}: ${each.message}`);
}

describe('payloads', () => {
  test("a command's data comes from its @MessageBody() parameters", async () => {
    const document = await build([
      command('text', [{ type: String }]),
      command('untyped', [{ type: undefined }]),
      command('number', [{ type: Number }]),
      command('bytes', [{ type: Uint8Array }]),
      command('fields', [{ field: 'room', type: String }, { field: 'count', type: Number }, { field: 'any', type: undefined }]),
      command('none'),
      command('move', [{ type: Move }]),
    ]);
    const payload = (name: string) => {
      const { contentType, payload } = document.components.messages[`client.${name}`];
      return { contentType, payload };
    };
    assert.deepEqual(payload('text'), { contentType: 'text/plain', payload: { type: 'string' } });
    assert.deepEqual(payload('untyped'), { contentType: 'text/plain', payload: { type: 'string' } });
    assert.deepEqual(payload('number'), { contentType: 'application/json', payload: { type: 'number' } });
    assert.deepEqual(payload('bytes'), { contentType: 'application/octet-stream', payload: { type: 'string', format: 'binary' } });
    assert.deepEqual(payload('fields'), {
      contentType: 'application/json',
      payload: { type: 'object', properties: { room: { type: 'string' }, count: { type: 'number' }, any: {} } },
    });
    assert.deepEqual(payload('none'), { contentType: 'text/plain', payload: { type: 'string', description: 'Any text: the handler does not read the data.' } });
    assert.deepEqual(payload('move'), { contentType: 'application/json', payload: { $ref: '#/components/schemas/Move' } });
    // A nested class brings its own schema along.
    assert.deepEqual(document.components.schemas.Position, { type: 'object', properties: { x: { type: 'integer', minimum: 0 } }, required: ['x'] });
    assert.deepEqual(document.components.schemas.Move.properties, { to: { $ref: '#/components/schemas/Position' } });
    assert.deepEqual(await problems(document), []);
  });

  test('a frame the server sends is described where its payload is declared, and named alone elsewhere', async () => {
    const document = await build(
      [
        command('ask', [], { replies: ['answer', { command: 'hint', payload: { type: 'object', properties: { level: { type: 'integer' } } } }] }),
        channel('answers', { pushes: [{ command: 'answer', payload: Position, summary: 'Where the answer is.' }] }),
        command('quiet', [], { replies: ['undeclared'] }),
      ],
      {},
      ['answer', { command: 'notice-of-the-day', payload: String }],
    );
    const { messages } = document.components;
    assert.deepEqual(messages['server.answer'], {
      name: 'answer',
      title: 'answer',
      summary: 'Where the answer is.',
      contentType: 'application/json',
      payload: { $ref: '#/components/schemas/Position' },
    });
    assert.equal(messages['server.hint'].contentType, 'application/json');
    assert.deepEqual(messages['server.undeclared'].payload, { description: 'Not described by the application.' });
    assert.deepEqual(messages['server.notice-of-the-day'].payload, { type: 'string' });
    assert.deepEqual(
      document.operations.pushToSessions.messages,
      [{ $ref: '#/channels/connection/messages/server.answer' }, { $ref: '#/channels/connection/messages/server.notice-of-the-day' }],
    );
    assert.deepEqual(await problems(document), []);
  });

  test('a frame that cannot be described is refused, naming the declaration', async () => {
    await assert.rejects(build([command('a', [], { replies: ['websocket'] })]), {
      code: 'EASY_WS_INVALID_DECLARATION',
      message: '@Command("a") on Commands.a: the frame "websocket" cannot be sent: "websocket" is reserved by the protocol',
    });
    await assert.rejects(build([channel('c', { pushes: [{ command: 'x', payload: { type: 'string' } }, { command: 'x', payload: { type: 'number' } }] })]), {
      code: 'EASY_WS_INVALID_DECLARATION',
      message: /^The frame "x" is declared with two payloads, on @ListenChannel\("c"\) on Channels\.c and on @ListenChannel\("c"\) on Channels\.c/,
    });
    await assert.rejects(build([command('a', [], { replies: 'b' as unknown as string[] })]), { code: 'EASY_WS_INVALID_DECLARATION', message: /replies and pushes are arrays/ });
    await assert.rejects(build([command('a', [], { replies: [{ command: 'b', payload: 42 as unknown as typeof String }] })]), {
      code: 'EASY_WS_INVALID_DECLARATION',
      message: /a payload is String, Number, Boolean, Array, Uint8Array, a class or a JSON Schema object/,
    });
    const Twin = class Position {};
    await assert.rejects(build([command('a', [{ type: Position }]), command('b', [{ type: Twin }])]), {
      code: 'EASY_WS_INVALID_DECLARATION',
      message: /two payload classes are named Position/,
    });
  });

  test('the same payload declared twice, as the same class or an equal schema, is one payload', async () => {
    const document = await build([
      command('a', [], { replies: [{ command: 'p', payload: Position }, { command: 's', payload: { type: 'string' } }] }),
      command('b', [], { replies: [{ command: 'p', payload: Position }, { command: 's', payload: { type: 'string' } }] }),
    ]);
    assert.deepEqual(Object.keys(document.components.messages).filter((key) => key.startsWith('server.')), ['server.p', 'server.s']);
  });
});

describe('channels', () => {
  test('a pattern becomes an address with its parameters; listen and unlisten take the names it matches', async () => {
    const document = await build([channel('games/:game/players/:player', { replies: [{ command: 'joined', payload: String }] }), channel('news')]);
    const game = document.channels['games_game_players_player'];
    assert.equal(game.address, 'games/{game}/players/{player}');
    assert.deepEqual(Object.keys(game.parameters ?? {}), ['game', 'player']);
    assert.equal(document.channels.news.parameters, undefined);
    const listen = document.components.messages['listen.games_game_players_player'];
    assert.deepEqual(listen.payload, { type: 'string', pattern: '^games/[^/]+/players/[^/]+$', description: 'The channel name, 1 to 255 bytes.' });
    assert.deepEqual(document.operations['listen.games_game_players_player'].reply?.messages.map((message) => message.$ref), [
      '#/channels/games_game_players_player/messages/server.joined',
      '#/channels/games_game_players_player/messages/acknowledgement',
      '#/channels/games_game_players_player/messages/notice',
    ]);
    assert.equal(document.operations['push.news'], undefined, 'no pushes declared, no push operation');
    assert.deepEqual(await problems(document), []);
  });

  test('history and presence, where a declaration has them, are said in words and as extensions', async () => {
    const features: ListenChannelOptions = { history: { size: 50, ttl: 60_000 }, presence: { info: () => ({}) } };
    const document = await build([channel('rooms/:room', features), channel('plain'), channel('flagged', { presence: true })]);
    const rooms = document.channels.rooms_room;
    assert.deepEqual(rooms['x-easy-ws-history'], { size: 50, ttl: 60_000 });
    assert.equal(rooms['x-easy-ws-presence'], true);
    assert.match(rooms.description, /It keeps a history of its pushes \(size 50, ttl 60000\)\. It tracks who listens \(presence\)\.$/);
    assert.equal(document.channels.flagged['x-easy-ws-presence'], true);
    assert.equal('x-easy-ws-history' in document.channels.flagged, false);
    assert.equal('x-easy-ws-history' in document.channels.plain, false);
    assert.equal('x-easy-ws-presence' in document.channels.plain, false);
    assert.deepEqual(await problems(document), []);
  });

  test('names that AsyncAPI does not allow as keys are made into keys, one each', async () => {
    const document = await build([command('a/b'), command('a_b'), command('ü'), channel('a/b'), channel('a_b')]);
    assert.deepEqual(Object.keys(document.operations).filter((key) => key.startsWith('command.')), ['command.a_b', 'command.a_b_2', 'command._']);
    assert.deepEqual(
      Object.values(document.components.messages).filter((message) => message.title.length <= 3).map((message) => message.name),
      ['a/b', 'a_b', 'ü'],
    );
    assert.deepEqual(Object.keys(document.channels), ['connection', 'a_b', 'a_b_2']);
    assert.deepEqual(await problems(document), []);
  });
});

describe('the handshake', () => {
  test('a cookie token that authenticate checks is a security scheme the server requires', async () => {
    const document = await build([], { authenticate: () => true, allowedOrigins: ['https://a.example'], maxConnections: 10 });
    const server = document.servers.endpoint;
    assert.deepEqual(server.security, [{ $ref: '#/components/securitySchemes/token' }]);
    assert.deepEqual(document.components.securitySchemes.token, { type: 'httpApiKey', in: 'cookie', name: 'auth', description: 'The token, the cookie `auth`.' });
    for (const refusal of ['**403** `Origin not allowed`', '**403** `Authentication failed`', '**503** `Authentication timed out`', '**503** `Too many connections`', '**503** `Server shutting down`']) {
      assert.ok(server.description.includes(refusal), refusal);
    }
  });

  test('without authenticate the token is not required and the refusals are only those that can happen', async () => {
    const document = await build([], { token: { query: 'token' } });
    const server = document.servers.endpoint;
    assert.equal(server.security, undefined);
    assert.deepEqual(document.components.securitySchemes, {});
    assert.match(server.description, /The token is the query parameter `token`; it is not checked: every connection is accepted\./);
    assert.ok(!server.description.includes('403'));
    assert.deepEqual(document.channels.connection.bindings?.ws.query, { type: 'object', properties: { token: { type: 'string', description: 'The token.' } } });
  });

  test('a header token is in the binding and the scheme; a function token in words only', async () => {
    const header = await build([], { token: { header: 'x-token' }, authenticate: () => true });
    assert.deepEqual(Object.keys((header.channels.connection.bindings?.ws.headers?.properties ?? {}) as object), ['Sec-WebSocket-Protocol', 'x-token']);
    assert.equal(header.components.securitySchemes.token.in, 'header');
    const reader = await build([], { token: () => 'x', authenticate: () => true, rateLimit: { framesPerSecond: 5 } });
    assert.equal(reader.servers.endpoint.security, undefined);
    assert.match(reader.servers.endpoint.description, /read from the upgrade request by a function of the application; the application checks it/);
    assert.match(reader.channels.connection.description, /At most 5 frames a second \(bursts of 5\)/);
    assert.deepEqual(await problems(reader), []);
  });
});
