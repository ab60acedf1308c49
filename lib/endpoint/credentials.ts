import type { Credentials } from './session.js';

/** What an authenticator's answer means for a session. */
export type Verdict = { readonly accepted: true; readonly credentials: Credentials } | { readonly accepted: false; readonly expired: boolean };

/**
 * Reads what `authenticate` returned for `token`: `false` or nothing refuses, `true`
 * accepts, an object accepts and starts the session's data. Of that object, a string
 * `sub` names the session's user and a numeric `exp` (seconds since the epoch, as in a
 * JWT) its expiry; a token whose `exp` has passed at `now` is refused as expired.
 */
export function readVerdict(token: string | undefined, verdict: unknown, now: number): Verdict {
  if (!verdict) {
    return { accepted: false, expired: false };
  }
  const data: Record<string, unknown> = typeof verdict === 'object' ? { ...verdict } : {};
  const { sub, exp } = data;
  const expiresAt = typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  if (expiresAt !== undefined && expiresAt <= now) {
    return { accepted: false, expired: true };
  }
  return { accepted: true, credentials: { token, data, userId: typeof sub === 'string' && sub.length > 0 ? sub : undefined, expiresAt } };
}
