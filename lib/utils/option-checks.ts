import { withCode } from '../protocol/errors.js';

/**
 * Checks of option values, shared by every options object the library takes, so that
 * a mistake stops start-up with one kind of message, naming the option and the unit.
 */

/** An error for an option value that cannot work. */
export function invalidOption(owner: string, message: string): TypeError {
  return withCode(new TypeError(`${owner}: ${message}`), 'EASY_WS_INVALID_OPTIONS');
}

/** `value`, when it is a whole number of at least `minimum`; throws otherwise. */
export function wholeNumber(owner: string, name: string, value: number, unit: string, minimum: 0 | 1 = 1): number {
  if (!Number.isSafeInteger(value) || value < minimum) {
    const kind = minimum === 0 ? 'a whole number' : 'a positive whole number';
    throw invalidOption(owner, `"${name}" must be ${kind} of ${unit}, got ${show(value)}`);
  }
  return value;
}

/** `value`, when it is undefined or a positive whole number; throws otherwise. */
export function optionalWholeNumber(owner: string, name: string, value: number | undefined, unit: string): number | undefined {
  return value === undefined ? undefined : wholeNumber(owner, name, value, unit);
}

/** A value as an error message shows it: strings quoted, numbers (NaN too) as they print. */
export function show(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value);
}
