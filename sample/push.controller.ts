import { readFile } from 'node:fs/promises';
import { Body, Controller, Get, Header, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { Message, PushService } from 'nestjs-easy-ws';

const PAGE = new URL('../../sample/public/index.html', import.meta.url);

/** The folder of the browser client, found the way an application finds it: through the package. */
const CLIENT_DIR = new URL('./', import.meta.resolve('nestjs-easy-ws/client'));

/** A client module's file name; nothing else is served from that folder. */
const CLIENT_FILE = /^[\w-]+\.js$/;

/** HTTP routes: the page, the client it loads, and pushes triggered over HTTP. */
@Controller()
export class PushController {
  constructor(private readonly push: PushService) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(): Promise<string> {
    return readFile(PAGE, 'utf8');
  }

  /** The browser client as ES modules: the page imports `/client/index.js`. */
  @Get('client/:file')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  async client(@Param('file') file: string): Promise<string> {
    if (!CLIENT_FILE.test(file)) {
      throw new NotFoundException();
    }
    return readFile(new URL(file, CLIENT_DIR), 'utf8').catch(() => {
      throw new NotFoundException();
    });
  }

  /** `curl -X POST localhost:3000/news -H 'content-type: application/json' -d '{"text":"hi"}'` */
  @Post('news')
  @HttpCode(202)
  async news(@Body('text') text: string): Promise<void> {
    await this.push.toChannel('news', new Message('news', text ?? ''));
  }

  /** Posts into a room as the server. */
  @Post('rooms/:room/messages')
  @HttpCode(202)
  async toRoom(@Param('room') room: string, @Body('text') text: string): Promise<void> {
    await this.push.toChannel(`rooms/${room}`, new Message('said', { room, user: 'server', text: text ?? '' }));
  }

  /** Sends one session a direct message. */
  @Post('sessions/:id/messages')
  @HttpCode(202)
  async toSession(@Param('id') id: string, @Body('text') text: string): Promise<void> {
    await this.push.toSession(id, new Message('direct', text ?? ''));
  }
}
