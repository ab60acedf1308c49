import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parseFrame } from 'nestjs-easy-ws';
import { EasyWsClient, parseTextFrame } from 'nestjs-easy-ws/client';

const CLIENT_DIR = dirname(fileURLToPath(import.meta.resolve('nestjs-easy-ws/client')));

/** Every module specifier in an ES module or declaration file: static, re-export and dynamic. */
function specifiers(source: string): string[] {
  const found = [...source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]/g)].map((match) => match[1]);
  found.push(...[...source.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)].map((match) => match[1]));
  found.push(...[...source.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]/g)].map((match) => match[1]));
  return found;
}

/** The shared protocol files the client may import from beside its folder; they import nothing. */
const SHARED = ['../protocol/rules.js', '../protocol/errors.js'];

test('nestjs-easy-ws/client resolves to the built client, which imports nothing but its folder and the shared rules', async () => {
  assert.equal(typeof EasyWsClient, 'function');
  assert.match(CLIENT_DIR, /[\\/]dist[\\/]lib[\\/]client$/);
  const files = (await readdir(CLIENT_DIR)).filter((name) => name.endsWith('.js') || name.endsWith('.d.ts'));
  assert.ok(files.includes('index.js') && files.includes('index.d.ts') && files.includes('easy-ws-client.js'), files.join(', '));
  const shared = SHARED.flatMap((file) => [file, file.replace(/\.js$/, '.d.ts')]);
  let imports = 0;
  for (const file of [...files, ...shared]) {
    const source = await readFile(join(CLIENT_DIR, file), 'utf8');
    assert.doesNotMatch(source, /\brequire\s*\(|\bBuffer\b|\bprocess\./, `${file} uses a Node API`);
    for (const specifier of specifiers(source)) {
      imports++;
      assert.ok(!file.startsWith('../'), `${file} is shared with the client, so it must import nothing, but imports ${specifier}`);
      if (SHARED.includes(specifier)) {
        continue;
      }
      assert.match(specifier, /^\.\/[\w.-]+\.js$/, `${file} imports ${specifier}`);
      const target = specifier.slice(2);
      assert.ok(files.includes(target), `${file} imports ${specifier}, which is not in the client folder`);
    }
  }
  assert.ok(imports >= 3, `found only ${imports} imports: the check would not see them`);
});

test('the client splits text frames exactly as the server splits their bytes', () => {
  // Separators, multi-byte characters and lengths around the 255-byte command limit.
  const pieces = fc.constantFrom('a', 'é', '€', '😀', ':', ' ', ': ', 'x'.repeat(50));
  fc.assert(
    fc.property(fc.array(pieces, { maxLength: 40 }), (parts) => {
      const frame = parts.join('');
      const server = parseFrame(Buffer.from(frame), false);
      assert.deepEqual(parseTextFrame(frame), server && { command: server.command, data: server.data });
    }),
    { numRuns: 2000 },
  );
});

test('a command of exactly 255 bytes is a command, one of 256 bytes is not', () => {
  const command = 'é'.repeat(127) + 'a';
  assert.equal(Buffer.byteLength(command), 255);
  assert.deepEqual(parseTextFrame(`${command}: data`), { command, data: 'data' });
  assert.equal(parseTextFrame(`${command}b: data`), undefined);
  assert.deepEqual(parseTextFrame('ping: '), { command: 'ping', data: '' });
  assert.equal(parseTextFrame(': x: y'), undefined);
});
