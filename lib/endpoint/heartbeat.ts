import type { Session } from './session.js';

/**
 * Pings every session of an endpoint on one timer, however many there are: a session
 * that has not answered the previous ping by the next is dropped (see
 * `Session.heartbeat`). Returns the function that stops it; `0` starts nothing.
 */
export function startHeartbeat(sessions: ReadonlySet<Session>, interval: number): () => void {
  if (interval <= 0) {
    return () => undefined;
  }
  // Unref'd: a heartbeat alone must not keep the process alive.
  const timer = setInterval(() => sessions.forEach((session) => session.heartbeat()), interval).unref();
  return () => clearInterval(timer);
}
