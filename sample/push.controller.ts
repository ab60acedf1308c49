import { readFile } from 'node:fs/promises';
import { Body, Controller, Get, Header, HttpCode, Param, Post } from '@nestjs/common';
import { Message, PushService } from 'nestjs-easy-ws';

const PAGE = new URL('../../sample/public/index.html', import.meta.url);

/** HTTP routes: the page, and pushes triggered over HTTP. */
@Controller()
export class PushController {
  constructor(private readonly push: PushService) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(): Promise<string> {
    return readFile(PAGE, 'utf8');
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
