import { cutUtf8, encodeFrame, type ParsedFrame } from './frame-codec.js';
import { Message } from './message.js';
import { type AnswerDetails, MAX_CHANNEL_BYTES, NOTICE_COMMAND, type NoticeSubject } from './rules.js';

/** The fixed notice texts of the protocol; old clients match on them. */
export const NOTICES = {
  notAuthorized: 'not authorized',
  channelDoesNotExist: 'channel does not exist',
  alreadyListening: 'already listening',
  notSupported: 'command not supported by server',
  notListening: 'not listening',
  internalError: 'internal server error',
  invalidJson: 'data is not valid JSON',
  tooManyChannels: 'too many channels',
  rateLimited: 'rate limited',
  noHistory: 'channel keeps no history',
  noPresence: 'channel has no presence',
} as const;

/** A server notice, `websocket: <text>`; only the library itself sends these. */
export function noticeMessage(text: string): Message {
  return Message.fromFrame(encodeFrame(NOTICE_COMMAND, text), false);
}

/** Notices in the original form, encoded once. */
const LEGACY_NOTICES = new Map(Object.values(NOTICES).map((text) => [text as string, noticeMessage(text)]));

/** What a frame is, as a notice that answers it names it. */
export function subjectOf(parsed: ParsedFrame | undefined): NoticeSubject {
  if (!parsed) {
    return { op: 'frame' };
  }
  const { command, data } = parsed;
  return command === 'listen' || command === 'unlisten' ? { op: command, channel: data.toString() } : { op: 'command', command };
}

/**
 * `subject`, naming at most 255 bytes of what the client sent: a channel name can be no
 * longer, so a longer one is named by its first 255 bytes and `…`, which no channel can
 * be called, and an answer never echoes more than that of a frame (a command is at most
 * 255 bytes already).
 */
function boundedSubject(subject: NoticeSubject): NoticeSubject {
  if (!('channel' in subject)) {
    return subject;
  }
  const prefix = cutUtf8(subject.channel, MAX_CHANNEL_BYTES);
  return prefix === subject.channel ? subject : { ...subject, channel: `${prefix}…` };
}

/**
 * The notice that answers `subject`, if the mode has one: in the original mode only
 * failures are answered, with the bare text; in acknowledged mode every answer is
 * JSON that names what it answers, and a success may carry `details`.
 */
export function answerFor(acknowledged: boolean, subject: NoticeSubject, error: string): Message;
export function answerFor(acknowledged: boolean, subject: NoticeSubject, error?: string, details?: AnswerDetails): Message | undefined;
export function answerFor(acknowledged: boolean, subject: NoticeSubject, error?: string, details?: AnswerDetails): Message | undefined {
  if (acknowledged) {
    const named = boundedSubject(subject);
    const answer = error === undefined ? { ...named, ok: true, ...details } : { ...named, ok: false, error };
    return noticeMessage(JSON.stringify(answer));
  }
  return error === undefined ? undefined : (LEGACY_NOTICES.get(error) ?? noticeMessage(error));
}
