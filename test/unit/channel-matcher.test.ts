import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ChannelMatcher } from '../../lib/handlers/channel-matcher.js';

function matcher(...patterns: string[]): ChannelMatcher<string> {
  const channels = new ChannelMatcher<string>();
  for (const pattern of patterns) {
    assert.equal(channels.add(pattern, pattern), undefined, `${pattern} is added`);
  }
  return channels;
}

describe('finding the declaration of a channel', () => {
  test('an exact name matches itself only', () => {
    const channels = matcher('news');
    assert.deepEqual(channels.match('news'), { target: 'news', params: {} });
    assert.equal(channels.match('News'), undefined, 'names are compared exactly');
    assert.equal(channels.match('news/1'), undefined);
  });

  test('a :param matches one non-empty segment and gives its value', () => {
    const channels = matcher('rooms/:room');
    assert.deepEqual(channels.match('rooms/42'), { target: 'rooms/:room', params: { room: '42' } });
    assert.equal(channels.match('rooms/'), undefined);
    assert.equal(channels.match('rooms/4/2'), undefined);
    assert.equal(channels.match('rooms'), undefined);
  });

  test('an exact name wins over a pattern, and more literal segments win over fewer', () => {
    const channels = matcher(':a/:b', 'rooms/:room', 'rooms/lobby');
    assert.equal(channels.match('rooms/lobby')?.target, 'rooms/lobby');
    assert.equal(channels.match('rooms/7')?.target, 'rooms/:room');
    assert.deepEqual(channels.match('x/y'), { target: ':a/:b', params: { a: 'x', b: 'y' } });
  });

  test('a channel longer than 255 bytes matches no pattern', () => {
    const channels = matcher('rooms/:room');
    const longest = `rooms/${'é'.repeat(124)}a`;
    assert.equal(Buffer.byteLength(longest), 255);
    assert.equal(channels.match(longest)?.target, 'rooms/:room');
    assert.equal(channels.match(`rooms/${'é'.repeat(125)}`), undefined, '256 bytes');
  });
});

describe('declaring channels', () => {
  test('two declarations that match the same names clash, whatever their param names', () => {
    const channels = matcher('rooms/:room');
    assert.equal(channels.add('rooms/:id', 'second'), 'rooms/:room');
    assert.equal(channels.add('news', 'news'), undefined);
    assert.equal(channels.add('news', 'again'), 'news');
  });

  test('refuses patterns that cannot work', () => {
    const channels = new ChannelMatcher<string>();
    assert.throws(() => channels.add('', 'x'), /non-empty/);
    assert.throws(() => channels.add('a'.repeat(256), 'x'), /at most 255 bytes/);
    assert.throws(() => channels.add('rooms/:', 'x'), /needs a name/);
    assert.throws(() => channels.add('rooms/:1x', 'x'), /needs a name/);
    assert.throws(() => channels.add(':a/:a', 'x'), /same ":param" twice/);
  });

  test('every name built from a pattern matches it, with the values it was built from', () => {
    const segment = fc.stringMatching(/^[^/]{1,8}$/);
    fc.assert(
      fc.property(fc.array(fc.oneof(segment.map((literal) => ({ literal })), fc.constant({ param: true })), { minLength: 1, maxLength: 5 }), fc.array(segment, { minLength: 5, maxLength: 5 }), (shape, values) => {
        const pattern = shape.map((part, index) => ('literal' in part ? part.literal.replace(/^:/, '_') : `:p${index}`)).join('/');
        const name = shape.map((part, index) => ('literal' in part ? part.literal.replace(/^:/, '_') : values[index])).join('/');
        const params = Object.fromEntries(shape.flatMap((part, index) => ('literal' in part ? [] : [[`p${index}`, values[index]]])));
        if (Buffer.byteLength(pattern) > 255 || Buffer.byteLength(name) > 255) {
          return;
        }
        assert.deepEqual(matcher(pattern).match(name), { target: pattern, params });
      }),
      { numRuns: 500 },
    );
  });
});
