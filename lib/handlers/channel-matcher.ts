import { MAX_CHANNEL_BYTES } from '../protocol/rules.js';

/** A channel name matched to its declaration, with the values of the pattern's params. */
export interface ChannelMatch<T> {
  readonly target: T;
  readonly params: Record<string, string>;
}

/** One `/`-separated segment of a channel pattern: a literal, or a `:param`. */
export type PatternSegment = { readonly literal: string } | { readonly param: string };

interface Pattern<T> {
  readonly segments: readonly PatternSegment[];
  readonly target: T;
}

/** The segments of a channel pattern (`rooms/:room`: the literal `rooms`, the param `room`). */
export function patternSegments(pattern: string): PatternSegment[] {
  return pattern.split('/').map((segment) => (segment.startsWith(':') ? { param: segment.slice(1) } : { literal: segment }));
}

/**
 * Finds the declaration a channel name belongs to: an exact name first, then the
 * most specific pattern (the one with the most literal segments).
 */
export class ChannelMatcher<T> {
  private readonly exact = new Map<string, T>();
  private readonly patterns: Array<Pattern<T>> = [];
  /** Declarations by shape (`rooms/:`), to catch two that would match the same names. */
  private readonly shapes = new Map<string, T>();

  /**
   * Adds a declaration, unless one that matches the same names is there already:
   * then nothing is added and that one is returned.
   * @throws Error when the pattern is not valid.
   */
  add(pattern: string, target: T): T | undefined {
    const { segments, shape } = parsePattern(pattern);
    const clash = this.shapes.get(shape);
    if (clash !== undefined) {
      return clash;
    }
    this.shapes.set(shape, target);
    if (segments.every((segment) => 'literal' in segment)) {
      this.exact.set(pattern, target);
    } else {
      this.patterns.push({ segments, target });
      this.patterns.sort((a, b) => literalCount(b) - literalCount(a));
    }
    return undefined;
  }

  /**
   * The declaration added with a pattern that matches the same names as `pattern`
   * (`rooms/:id` for `rooms/:room`), if any.
   * @throws Error when the pattern is not valid.
   */
  declared(pattern: string): T | undefined {
    return this.shapes.get(parsePattern(pattern).shape);
  }

  /** Every declaration added. */
  targets(): IterableIterator<T> {
    return this.shapes.values();
  }

  /** The declaration `channel` belongs to, or `undefined` when it "does not exist". */
  match(channel: string): ChannelMatch<T> | undefined {
    const exact = this.exact.get(channel);
    if (exact !== undefined) {
      return { target: exact, params: {} };
    }
    if (this.patterns.length === 0 || Buffer.byteLength(channel) > MAX_CHANNEL_BYTES) {
      return undefined;
    }
    const parts = channel.split('/');
    for (const pattern of this.patterns) {
      const params = matchSegments(pattern, parts);
      if (params) {
        return { target: pattern.target, params };
      }
    }
    return undefined;
  }
}

/** A pattern's segments, and its shape: the pattern with every param name left out. @throws Error when it is not valid. */
function parsePattern(pattern: string): { segments: PatternSegment[]; shape: string } {
  const problem = patternProblem(pattern);
  if (problem) {
    throw new Error(problem);
  }
  const segments = patternSegments(pattern);
  return { segments, shape: segments.map((segment) => ('literal' in segment ? segment.literal : ':')).join('/') };
}

function patternProblem(pattern: string): string | undefined {
  if (typeof pattern !== 'string' || pattern.length === 0) {
    return 'a channel must be a non-empty string';
  }
  if (Buffer.byteLength(pattern) > MAX_CHANNEL_BYTES) {
    return `a channel is at most ${MAX_CHANNEL_BYTES} bytes`;
  }
  const names = pattern
    .split('/')
    .filter((segment) => segment.startsWith(':'))
    .map((segment) => segment.slice(1));
  if (names.some((name) => !/^[A-Za-z_$][\w$]*$/.test(name))) {
    return 'a ":param" segment needs a name of letters, digits and "_"';
  }
  if (new Set(names).size !== names.length) {
    return 'a pattern cannot use the same ":param" twice';
  }
  return undefined;
}

function literalCount<T>(pattern: Pattern<T>): number {
  return pattern.segments.filter((segment) => 'literal' in segment).length;
}

function matchSegments<T>(pattern: Pattern<T>, parts: string[]): Record<string, string> | undefined {
  if (parts.length !== pattern.segments.length) {
    return undefined;
  }
  const params: Record<string, string> = {};
  for (let index = 0; index < parts.length; index++) {
    const segment = pattern.segments[index];
    const part = parts[index];
    if ('literal' in segment) {
      if (segment.literal !== part) {
        return undefined;
      }
    } else if (part.length === 0) {
      return undefined;
    } else {
      params[segment.param] = part;
    }
  }
  return params;
}
