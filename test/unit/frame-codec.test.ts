import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeFrame, MAX_COMMAND_BYTES, Message, parseFrame, type ParsedFrame } from 'nestjs-easy-ws';
import { noticeMessage } from '../../lib/protocol/notices.js';

const RESERVED = ['websocket', 'listen', 'unlisten'];

/** Commands a frame may carry: 1 to 255 bytes of any text without ':', multi-byte characters included. */
const command = fc
  .oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 63 }),
    fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: MAX_COMMAND_BYTES }),
  )
  .map((text) => text.replaceAll(':', ''))
  .filter((text) => text.length > 0 && Buffer.byteLength(text) <= MAX_COMMAND_BYTES && !RESERVED.includes(text));

/** Text data, `: ` and all, in any script. */
const textData = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom(':', ' ', 'a', '\n') }));

/**
 * What PROTOCOL.md says a frame means, written independently of the codec: the
 * first `": "` whose colon lies within the first 256 bytes splits it, unless it is
 * at position 0; without one, the frame has no command.
 */
function specifiedParse(frame: Buffer, isBinary: boolean): ParsedFrame | undefined {
  for (let index = 0; index <= MAX_COMMAND_BYTES && index + 1 < frame.length; index++) {
    if (frame[index] === 0x3a && frame[index + 1] === 0x20) {
      if (index === 0) {
        return undefined;
      }
      const rest = frame.subarray(index + 2);
      return { command: frame.subarray(0, index).toString(), data: isBinary ? Buffer.from(rest) : rest.toString() };
    }
  }
  return undefined;
}

function parseText(frame: string): ParsedFrame | undefined {
  return parseFrame(Buffer.from(frame), false);
}

describe('encode and parse round-trip', () => {
  test('a text frame gives back its command and its data', () => {
    fc.assert(
      fc.property(command, textData, (name, data) => {
        const message = new Message(name, data);
        assert.equal(message.binary, false);
        assert.deepEqual(parseFrame(message.frame, false), { command: name, data });
      }),
    );
  });

  test('a binary frame gives back its command and the exact bytes', () => {
    fc.assert(
      fc.property(command, fc.uint8Array({ maxLength: 600 }), (name, bytes) => {
        const message = new Message(name, bytes);
        assert.equal(message.binary, true);
        const parsed = parseFrame(message.frame, true);
        assert.equal(parsed?.command, name);
        assert.ok(Buffer.isBuffer(parsed.data));
        assert.deepEqual([...parsed.data], [...bytes]);
      }),
    );
  });

  test('JSON data is sent as its JSON text', () => {
    fc.assert(
      fc.property(command, fc.dictionary(fc.string(), fc.jsonValue()), (name, value) => {
        const parsed = parseFrame(new Message(name, value).frame, false);
        assert.equal(parsed?.data, JSON.stringify(value));
      }),
    );
  });

  test('encodeFrame writes `<command>: <data>` for text and bytes alike', () => {
    fc.assert(
      fc.property(command, fc.string({ unit: 'binary' }), (name, data) => {
        const expected = Buffer.from(`${name}: ${data}`);
        assert.deepEqual(encodeFrame(name, data), expected);
        assert.deepEqual(encodeFrame(name, Buffer.from(data)), expected);
      }),
    );
  });
});

describe('parsing arbitrary bytes', () => {
  const frames = fc.oneof(
    fc.uint8Array({ maxLength: 600 }),
    // Bytes rich in ':' and ' ', so that separators turn up at every position.
    fc.array(fc.constantFrom(0x3a, 0x20, 0x61, 0xc3, 0xa9, 0xff), { maxLength: 600 }).map((bytes) => Uint8Array.from(bytes)),
    fc.array(fc.constantFrom(0x3a, 0x20, 0x61), { maxLength: 12 }).map((bytes) => Uint8Array.from(bytes)),
  );

  test('never throws, and means what the protocol says', () => {
    fc.assert(
      fc.property(frames, fc.boolean(), (bytes, isBinary) => {
        const frame = Buffer.from(bytes);
        assert.deepEqual(parseFrame(frame, isBinary), specifiedParse(frame, isBinary));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('separator rules', () => {
  test('the first ": " splits the frame; the data keeps any later one', () => {
    assert.deepEqual(parseText('say: a: b'), { command: 'say', data: 'a: b' });
  });

  test('empty data is valid', () => {
    assert.deepEqual(parseText('ping: '), { command: 'ping', data: '' });
  });

  test('a colon without the space, or a space before the colon, is no separator', () => {
    assert.equal(parseText('ping:'), undefined);
    assert.equal(parseText('ping:x'), undefined);
    assert.equal(parseText('ping :x'), undefined);
    assert.equal(parseText('ping'), undefined);
    assert.equal(parseText(''), undefined);
  });

  test('a separator at position 0 means no command, even when another follows', () => {
    assert.equal(parseText(': x'), undefined);
    assert.equal(parseText(': '), undefined);
    assert.equal(parseText(': a: b'), undefined);
  });

  test('a 255-byte command is found, a 256-byte one is not', () => {
    assert.deepEqual(parseText(`${'c'.repeat(255)}: x`), { command: 'c'.repeat(255), data: 'x' });
    assert.equal(parseText(`${'c'.repeat(256)}: x`), undefined);
  });

  test('the limit counts bytes, not characters', () => {
    const twoByteCommand = `${'é'.repeat(127)}a`; // 255 bytes
    assert.deepEqual(parseText(`${twoByteCommand}: x`), { command: twoByteCommand, data: 'x' });
    assert.equal(parseText(`${'é'.repeat(128)}: x`), undefined); // 256 bytes
  });

  test('commands keep their case and their spaces', () => {
    assert.deepEqual(parseText('Echo: x'), { command: 'Echo', data: 'x' });
    assert.deepEqual(parseText(' : x'), { command: ' ', data: 'x' });
  });

  test('a binary frame keeps its data as bytes, invalid UTF-8 included', () => {
    const parsed = parseFrame(Buffer.concat([Buffer.from('bin: '), Buffer.from([0, 0xff, 0xfe])]), true);
    assert.equal(parsed?.command, 'bin');
    assert.deepEqual(parsed.data, Buffer.from([0, 0xff, 0xfe]));
  });
});

describe('Message validation', () => {
  const invalid: Array<[string, string, RegExp]> = [
    ['an empty command', '', /non-empty/],
    ['a command of 256 bytes', 'x'.repeat(256), /at most 255 bytes/],
    ['a command of 256 bytes in 128 characters', 'é'.repeat(128), /at most 255 bytes/],
    ['a command with ":"', 'a:b', /must not contain ":"/],
    ...RESERVED.map((name): [string, string, RegExp] => [`the reserved command "${name}"`, name, /reserved/]),
  ];
  for (const [situation, name, reason] of invalid) {
    test(`rejects ${situation} with a TypeError that names it`, () => {
      assert.throws(
        () => new Message(name, 'data'),
        (error: unknown) => error instanceof TypeError && reason.test(error.message) && error.message.includes(JSON.stringify(name)),
      );
    });
  }

  test('accepts a command of exactly 255 bytes', () => {
    assert.equal(new Message('x'.repeat(255)).command, 'x'.repeat(255));
  });

  test('rejects data that cannot be sent', () => {
    assert.throws(() => new Message('fn', (() => 1) as unknown as object), TypeError);
  });

  test('without data, the frame ends with the separator', () => {
    assert.equal(new Message('ping').frame.toString(), 'ping: ');
  });

  test('a notice may use the reserved command', () => {
    assert.equal(noticeMessage('not authorized').frame.toString(), 'websocket: not authorized');
  });
});
