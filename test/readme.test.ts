import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as api from 'nestjs-easy-ws';
import { DEFAULT_OPTIONS, resolveOptions } from '../lib/module/options.js';

// Compiled to dist/test, so the sources are two levels up.
const root = new URL('../../', import.meta.url);
const readme = await readFile(new URL('README.md', root), 'utf8');
const index = await readFile(new URL('lib/index.ts', root), 'utf8');

/** The rows of the options table: option name -> its default cell. */
function optionsTable(): Map<string, string> {
  const section = readme.split(/^## /m).find((part) => part.startsWith('Options\n'));
  assert.ok(section, 'the README has an "## Options" section');
  const rows = [...section.matchAll(/^\| `(\w+)` \| ([^|]+) \|/gm)];
  return new Map(rows.map(([, name, cell]) => [name, cell]));
}

/** Every name `lib/index.ts` exports, types included. */
function exportedNames(): string[] {
  const lists = [...index.matchAll(/^export (?:type )?\{([^}]+)\}/gm)].map(([, list]) => list);
  return lists.flatMap((list) => list.split(',').map((name) => name.replace(/^\s*type\s+/, '').trim()));
}

test('the options table lists exactly the options the module takes', () => {
  assert.deepEqual([...optionsTable().keys()].sort(), Object.keys(resolveOptions()).sort());
});

test('the options table states each default the code applies', () => {
  const table = optionsTable();
  const normalise = (text: string) => text.replace(/[\s'"`]/g, '');
  for (const [name, value] of Object.entries(DEFAULT_OPTIONS)) {
    assert.ok(normalise(table.get(name) ?? '').includes(normalise(JSON.stringify(value))), `default of ${name}`);
  }
});

test('every export of the package is documented', () => {
  const names = exportedNames();
  // The parser must see at least every value the package exports at run time.
  assert.deepEqual(Object.keys(api).filter((name) => !names.includes(name)), []);
  assert.deepEqual(names.filter((name) => !new RegExp(`\\b${name}\\b`).test(readme)), []);
});

test('every notice text is in the README, as the client sees it', () => {
  assert.deepEqual(Object.values(api.NOTICES).filter((text) => !readme.includes(`websocket: ${text}`)), []);
});
