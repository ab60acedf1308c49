/**
 * Canaries: the library reaches into a few parts of Nest that are not its public API
 * (lib/handlers/nest-internals.ts lists them). Each test here names the part it
 * checks, so that an upgrade of Nest that changes one fails here, with the reason,
 * before it misbehaves in an application.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Module } from '@nestjs/common';
import { ExternalContextCreator, NestFactory } from '@nestjs/core';
import { ConnectedSocket, MessageBody } from '@nestjs/websockets';
import {
  CONTEXT_CREATOR_MEMBERS,
  ExecutionContextHost,
  missingContextCreatorMembers,
  ROUTE_ARGS_METADATA,
  selectExceptionFilterMetadata,
  WsParamsFactory,
  WsParamtype,
} from '../../lib/handlers/nest-internals.js';

@Module({})
class EmptyModule {}

const context = await NestFactory.createApplicationContext(EmptyModule, { logger: false });
const creator = context.get(ExternalContextCreator);
await context.close();

for (const member of Object.keys(CONTEXT_CREATOR_MEMBERS)) {
  test(`Nest's ExternalContextCreator still has ${member}, which the fast command path relies on`, () => {
    assert.ok(
      !missingContextCreatorMembers(creator).includes(member),
      `ExternalContextCreator.${member} is gone or changed in this Nest: every handler now runs through Nest's full pipeline ` +
        '(same behaviour, slower). Update lib/handlers/nest-internals.ts and lib/handlers/handler-invoker.ts.',
    );
  });
}

test("Nest's WsParamsFactory still gives @ConnectedSocket() the client and @MessageBody() the data or one of its fields", () => {
  const factory = new WsParamsFactory();
  const session = { id: 's' };
  assert.equal(factory.exchangeKeyForValue(WsParamtype.SOCKET, undefined, [session, 'data', 'echo']), session, 'WsParamtype.SOCKET');
  assert.equal(factory.exchangeKeyForValue(WsParamtype.PAYLOAD, undefined, [session, 'data', 'echo']), 'data', 'WsParamtype.PAYLOAD');
  assert.equal(factory.exchangeKeyForValue(WsParamtype.PAYLOAD, 'name', [session, { name: 'ada' }, 'echo']), 'ada', 'a body field');
});

test('@MessageBody() is still recorded under ROUTE_ARGS_METADATA as "<WsParamtype.PAYLOAD>:<index>", which tells a JSON body', () => {
  class Handlers {
    method(@ConnectedSocket() _session: unknown, @MessageBody('field') _body: unknown): void {}
  }
  const keys = Object.keys(Reflect.getMetadata(ROUTE_ARGS_METADATA, Handlers, 'method') ?? {});
  assert.deepEqual(keys.sort(), [`${WsParamtype.PAYLOAD}:1`, `${WsParamtype.SOCKET}:0`].sort(), `ROUTE_ARGS_METADATA holds ${keys.join(', ')}`);
});

test("Nest's ExecutionContextHost still makes a 'ws' context of (client, data, pattern)", () => {
  const host = new ExecutionContextHost([{ id: 's' }, 'data', 'echo']);
  host.setType('ws');
  assert.equal(host.getType(), 'ws');
  assert.equal(host.switchToWs().getData(), 'data');
  assert.equal(host.switchToWs().getPattern(), 'echo');
});

test('selectExceptionFilterMetadata still picks the filter whose @Catch() matches the error', () => {
  const func = (): string => 'caught';
  const filters = [{ func, exceptionMetatypes: [RangeError] }];
  assert.equal(selectExceptionFilterMetadata(filters, new RangeError('x'))?.func, func);
  assert.equal(selectExceptionFilterMetadata(filters, new TypeError('x')), undefined);
});
