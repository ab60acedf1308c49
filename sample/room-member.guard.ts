import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { ChannelRequest, EasyWsSession } from 'nestjs-easy-ws';

/** Anyone may join a room, except `staff`, which is for the user `admin` only. */
@Injectable()
export class RoomMemberGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const session = context.switchToWs().getClient<EasyWsSession>();
    const { params } = context.switchToWs().getData<ChannelRequest>();
    return params.room !== 'staff' || session.data.user === 'admin';
  }
}
