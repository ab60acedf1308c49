import { readFile } from 'node:fs/promises';
import { Body, Controller, Get, Header, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { Message, PushService } from 'nestjs-easy-ws';

const PAGE = new URL('../../sample/public/index.html', import.meta.url);

/** The folder of the browser client, found the way an application finds it: through the package. */
const CLIENT_DIR = new URL('./', import.meta.resolve('nestjs-easy-ws/client'));

/** The protocol rules the client imports from beside its folder; nothing else is served from there. */
const SHARED_DIR = new URL('../protocol/', CLIENT_DIR);
const SHARED_FILES: ReadonlySet<string> = new Set(['rules.js', 'errors.js']);

/** A client module's file name; nothing else is served from that folder. */
const CLIENT_FILE = /^[\w-]+\.js$/;

/** Reads a file of the package for the browser, or answers 404. */
function serveModule(url: URL): Promise<string> {
  return readFile(url, 'utf8').catch(() => {
    throw new NotFoundException();
  });
}

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
  client(@Param('file') file: string): Promise<string> {
    if (!CLIENT_FILE.test(file)) {
      throw new NotFoundException();
    }
    return serveModule(new URL(file, CLIENT_DIR));
  }

  /** The protocol rules and error codes the client shares with the server, which it imports as `../protocol/*.js`. */
  @Get('protocol/:file')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  shared(@Param('file') file: string): Promise<string> {
    if (!SHARED_FILES.has(file)) {
      throw new NotFoundException();
    }
    return serveModule(new URL(file, SHARED_DIR));
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
