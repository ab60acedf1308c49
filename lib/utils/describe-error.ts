import { inspect } from 'node:util';

/**
 * Describing what an application threw, for the log. JavaScript can throw anything:
 * `null`, a symbol, an object without a prototype, one whose `message` getter throws,
 * a Proxy whose every trap throws, a cyclic object. Reading such a value the usual way
 * (`error.message`, `String(error)`) throws in turn, and the original failure is lost
 * behind a TypeError of the logging code. These functions never throw.
 */

/** The longest description, in characters: a thrown 10 MB string must not become a 10 MB log line. */
const MAX_DESCRIPTION = 8000;

/** The longest one-line summary, in characters. */
const MAX_SUMMARY = 200;

/** What is said of a value that cannot even be inspected. */
const UNDESCRIBABLE = 'a thrown value that cannot be described';

const INSPECT_OPTIONS = {
  // The value's own inspect function, getters and Proxy traps are application code that may throw;
  // inspect then looks at the Proxy's target and shows getters as [Getter].
  customInspect: false,
  getters: false,
  showProxy: false,
  depth: 3,
  maxArrayLength: 20,
  maxStringLength: MAX_DESCRIPTION,
  breakLength: Number.POSITIVE_INFINITY,
} as const;

/**
 * Everything worth logging about a thrown value, as text: an error's class, message,
 * stack, code and cause; anything else as `util.inspect` shows it. Never throws, and
 * never longer than 8,000 characters.
 */
export function describeError(value: unknown): string {
  let text: string;
  try {
    text = inspect(value, INSPECT_OPTIONS);
  } catch {
    text = describeUninspectable(value);
  }
  return cut(text, MAX_DESCRIPTION);
}

/**
 * One line about a thrown value: an error's message when it is a string that can be
 * read, else the first line of its description. Never throws.
 */
export function summarizeError(value: unknown): string {
  const message = readMessage(value);
  return cut(message ?? firstLine(describeError(value)), MAX_SUMMARY);
}

/** An error's message, unless reading it throws (a Proxy's trap, a getter) or it is not a string. */
function readMessage(value: unknown): string | undefined {
  const message = attempt(() => (value instanceof Error ? value.message : undefined));
  return typeof message === 'string' ? firstLine(message) : undefined;
}

/**
 * What can be read of a value that `inspect` gave up on (an error whose `stack` or
 * `name` getter throws, say): its tag, message and stack, each read on its own.
 */
function describeUninspectable(value: unknown): string {
  const tag = attempt(() => Object.prototype.toString.call(value));
  if (tag === undefined) {
    return UNDESCRIBABLE;
  }
  const message = attempt(() => (value as { message?: unknown }).message);
  const stack = attempt(() => (value as { stack?: unknown }).stack);
  const said = typeof message === 'string' ? `${tag} that cannot be inspected: ${message}` : `${tag} that cannot be inspected`;
  return typeof stack === 'string' ? `${said}\n${stack}` : said;
}

function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end === -1 ? text : text.slice(0, end);
}

function cut(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length)}… (${text.length - length} more characters)`;
}
