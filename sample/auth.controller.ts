import { BadRequestException, Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';

/** A user name: the sample's whole login. A real app checks a password or a session here. */
const USER_NAME = /^[\w-]{1,32}$/;

/** How long a token lasts, in seconds: short, so that the page shows it being refreshed over the socket. */
export const TOKEN_SECONDS = Number(process.env.TOKEN_SECONDS ?? 60);

/** The part of Express's response the login uses. */
interface CookieResponse {
  cookie(name: string, value: string, options: { httpOnly: boolean; sameSite: 'strict'; path: string; maxAge: number }): void;
}

/** The claims of the sample's tokens: `sub` makes the session's user, `user` is what the chat shows. */
export interface ChatClaims {
  readonly sub: string;
  readonly user: string;
}

@Controller('auth')
export class AuthController {
  constructor(private readonly jwt: JwtService) {}

  /**
   * Signs a short-lived token for `user`, sets it as the `auth` cookie (which the
   * WebSocket handshake reads, and which reconnects send again), and returns it, for
   * the page to refresh the session's token over the socket.
   */
  @Post('token')
  @HttpCode(200)
  async token(@Body('user') user: string, @Res({ passthrough: true }) response: CookieResponse): Promise<{ token: string }> {
    if (typeof user !== 'string' || !USER_NAME.test(user)) {
      throw new BadRequestException('a user name is 1 to 32 letters, digits, "_" or "-"');
    }
    const token = await this.jwt.signAsync({ sub: user, user } satisfies ChatClaims);
    response.cookie('auth', token, { httpOnly: true, sameSite: 'strict', path: '/', maxAge: 24 * 3600 * 1000 });
    return { token };
  }
}
