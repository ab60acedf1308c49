import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeError, summarizeError } from '../../lib/utils/describe-error.js';

/** An error whose `message` getter throws, as a careless subclass may have. */
class GetterError extends Error {
  override get message(): string {
    throw new Error('the getter broke');
  }
}

function trapsThatThrow(target: object): object {
  const fail = (): never => {
    throw new Error('a trap broke');
  };
  return new Proxy(target, { get: fail, getPrototypeOf: fail, ownKeys: fail, getOwnPropertyDescriptor: fail, has: fail });
}

function errorWithThrowing(property: 'stack' | 'name'): Error {
  const error = new Error('hidden behind a getter');
  Object.defineProperty(error, property, {
    get() {
      throw new Error(`the ${property} getter broke`);
    },
  });
  return error;
}

const cyclic: Record<string, unknown> = { id: 7 };
cyclic.self = cyclic;
const revocable = Proxy.revocable({}, {});
revocable.revoke();

/** Every kind of value JavaScript can throw that the usual ways of reading an error choke on. */
const STRANGE: Array<[string, unknown, RegExp]> = [
  ['an object without a prototype', Object.create(null), /null prototype/],
  ['an error whose message getter throws', new GetterError('set before the getter'), /GetterError/],
  ['a Proxy whose every trap throws', trapsThatThrow({ secret: 1 }), /secret/],
  ['a Proxy of an error whose traps throw', trapsThatThrow(new Error('inside the proxy')), /inside the proxy/],
  ['a revoked Proxy', revocable.proxy, /Revoked Proxy/],
  ['an error whose stack getter throws', errorWithThrowing('stack'), /hidden behind a getter/],
  ['an error whose name getter throws', errorWithThrowing('name'), /hidden behind a getter/],
  ['a symbol', Symbol('thrown'), /Symbol\(thrown\)/],
  ['a cyclic object', cyclic, /Circular/],
  ['a bigint', 10n, /10n/],
  ['undefined', undefined, /^undefined$/],
  ['null', null, /^null$/],
  ['an object whose own inspect function throws', { [Symbol.for('nodejs.util.inspect.custom')]: () => { throw new Error('no'); } }, /inspect/],
  ['an object whose toString throws', { toString: () => { throw new Error('no'); } }, /toString/],
];

describe('describing a thrown value for the log', () => {
  for (const [name, value, shows] of STRANGE) {
    test(`never throws, and says what it was: ${name}`, () => {
      const description = describeError(value);
      assert.match(description, shows);
      assert.equal(typeof summarizeError(value), 'string');
      assert.ok(!summarizeError(value).includes('\n'), 'the summary is one line');
    });
  }

  test('an error is described with its class, message, stack, code and cause', () => {
    const error = Object.assign(new RangeError('out of bounds', { cause: new Error('the root') }), { code: 'E_BOUNDS' });
    const description = describeError(error);
    assert.match(description, /^RangeError: out of bounds\n\s+at /);
    assert.match(description, /code: 'E_BOUNDS'/);
    assert.match(description, /\[cause\]: Error: the root/);
    assert.equal(summarizeError(error), 'out of bounds');
  });

  test('the summary of a value that is not an error is the first line of its description', () => {
    assert.equal(summarizeError('not even an Error'), "'not even an Error'");
    assert.equal(summarizeError(Object.create(null)), '[Object: null prototype] {}');
    assert.equal(summarizeError(new Error('first line\nsecond line')), 'first line');
  });

  test('a huge value is cut, so that one throw cannot make a huge log line', () => {
    const description = describeError('x'.repeat(1_000_000));
    assert.ok(description.length < 9000, `${description.length} characters`);
    assert.match(description, /more characters\)$/);
    assert.ok(summarizeError(new Error('y'.repeat(10_000))).length < 300);
  });
});
