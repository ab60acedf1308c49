/**
 * Run in a process of its own, with optional packages hidden (hidden-packages.ts:
 * class-validator-jsonschema, prom-client): starts applications with and without the
 * AsyncAPI document and the metrics, and prints, as JSON, what each did.
 */
import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { MessageBody } from '@nestjs/websockets';
import { IsString } from 'class-validator';
import { Command, EasyWsModule, type EasyWsOptions, Message } from 'nestjs-easy-ws';
import { EasyWsTestClient } from 'nestjs-easy-ws/testing';
import { startApp } from './app.js';

class Body {
  @IsString()
  text!: string;
}

@Injectable()
class Echo {
  @Command('echo', { replies: [{ command: 'echo', payload: String }] })
  echo(@MessageBody() data: string) {
    return new Message('echo', data);
  }
}

@Injectable()
class Typed {
  @Command('typed')
  typed(@MessageBody() body: Body) {
    return new Message('typed', body.text);
  }
}

/** What happened to an application with these options and providers: what it served, or the error it stopped with. */
async function outcome(options: EasyWsOptions, providers: Array<new (...args: never[]) => unknown>, use: (port: number) => Promise<string>): Promise<unknown> {
  try {
    const running = await startApp({ imports: [EasyWsModule.forRoot(options)], providers });
    try {
      return await use(running.port);
    } finally {
      await running.close();
    }
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    return { code, message };
  }
}

async function echoed(port: number): Promise<string> {
  const client = await EasyWsTestClient.connect(`ws://127.0.0.1:${port}/ws`);
  client.send('echo', 'served');
  const frame = await client.expectFrame('echo');
  await client.close();
  return frame.text;
}

const served = async (port: number) => ((await fetch(`http://127.0.0.1:${port}/asyncapi.json`)).ok ? 'served' : 'not served');

const result = {
  importable: await import('class-validator-jsonschema' as string).then(
    () => 'importable',
    (error: { code?: string }) => error.code,
  ),
  withoutDocument: await outcome({}, [Echo, Typed], echoed),
  withTextPayloads: await outcome({ asyncapi: { path: '/asyncapi.json' } }, [Echo], served),
  withPayloadClass: await outcome({ asyncapi: { path: '/asyncapi.json' } }, [Echo, Typed], served),
  withMetrics: await outcome({ metrics: true }, [Echo], echoed),
};
console.log(JSON.stringify(result));
