import { type ParsedFrame, parseFrame } from '../protocol/frame-codec.js';
import { NOTICES, subjectOf } from '../protocol/notices.js';
import type { Session } from './session.js';

/**
 * What every frame goes through before its command is handled, on the module's
 * command path and on the path that serves an application's own gateway: it is
 * parsed, it takes a token from the rate limit, and a frame that cannot go on is
 * answered here with the notice that says why.
 *
 * @returns the frame's command and data, or `undefined` when the frame was answered here.
 */
export function admitFrame(session: Session, frame: Buffer, isBinary: boolean): ParsedFrame | undefined {
  const parsed = parseFrame(frame, isBinary);
  if (!session.admitFrame()) {
    session.notify(subjectOf(parsed), NOTICES.rateLimited);
    return undefined;
  }
  if (!parsed) {
    session.notify({ op: 'frame' }, NOTICES.notSupported);
  }
  return parsed;
}
