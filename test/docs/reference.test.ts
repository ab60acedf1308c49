import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import * as api from 'nestjs-easy-ws';
import * as clientApi from 'nestjs-easy-ws/client';
import { DEFAULT_OPTIONS, resolveOptions } from '../../lib/module/options.js';
import { docPages } from './doc-examples.js';

// Compiled to dist/test/docs, so the project is three levels up.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const read = (page: string): string => readFileSync(join(root, page), 'utf8');
const pages = docPages(root);
const docs = pages.filter((page) => page.startsWith('docs/'));

/** The header of the one options table, in docs/options.md. */
const OPTIONS_HEADER = '| option | default | what it does | when it is hit, the client sees |';

/** The rows of the options table: option name -> its default cell. */
function optionsTable(): Map<string, string> {
  const lines = read('docs/options.md').split('\n');
  const start = lines.indexOf(OPTIONS_HEADER);
  assert.notEqual(start, -1, `docs/options.md has the options table, headed ${OPTIONS_HEADER}`);
  const end = lines.findIndex((line, index) => index > start && !line.startsWith('|'));
  const rows = lines.slice(start + 2, end === -1 ? undefined : end);
  return new Map(
    rows.map((row) => {
      const match = /^\| `(\w+)` \| ([^|]+) \|/.exec(row);
      assert.ok(match, `a row of the options table names one option and its default: ${row}`);
      return [match[1], match[2]];
    }),
  );
}

/** The package as its users' compiler sees it: each entry point of its `exports` and what it exports. */
function packageExports(): Map<string, ts.Symbol[]> & { checker: ts.TypeChecker } {
  const { exports } = JSON.parse(read('package.json')) as { exports: Record<string, { types: string }> };
  const entries = Object.entries(exports).map(([subpath, { types }]) => [subpath, join(root, types)] as const);
  const program = ts.createProgram(
    entries.map(([, file]) => file),
    { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, noEmit: true, skipLibCheck: true, types: [] },
  );
  const checker = program.getTypeChecker();
  const found = new Map(
    entries.map(([subpath, file]) => {
      const source = program.getSourceFile(file);
      assert.ok(source, `${file} is built`);
      const module = checker.getSymbolAtLocation(source);
      assert.ok(module, `${file} is a module`);
      return [subpath, checker.getExportsOfModule(module)];
    }),
  );
  return Object.assign(found, { checker });
}

const exported = packageExports();

/** The string literals of the exported type `EasyWsErrorCode`, or `undefined` while the package has none. */
function errorCodes(): string[] | undefined {
  const symbol = exported.get('.')?.find((each) => each.name === 'EasyWsErrorCode');
  if (!symbol) {
    return undefined;
  }
  const { checker } = exported;
  const type = checker.getDeclaredTypeOfSymbol(symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol);
  const members = type.isUnion() ? type.types : [type];
  return members.map((member) => (member.isStringLiteral() ? member.value : checker.typeToString(member)));
}

test('the options table lists exactly the options the module takes', () => {
  assert.deepEqual([...optionsTable().keys()].sort(), Object.keys(resolveOptions()).sort());
});

test('the options table states each default the code applies', () => {
  const table = optionsTable();
  const normalise = (text: string): string => text.replace(/[\s'"`]/g, '');
  for (const [name, value] of Object.entries(DEFAULT_OPTIONS)) {
    assert.ok(normalise(table.get(name) ?? '').includes(normalise(JSON.stringify(value))), `default of ${name}: ${table.get(name)}`);
  }
});

/** The Markdown tables of a page, each as its rows. */
function tables(markdown: string): string[][] {
  const found: string[][] = [];
  let current: string[] | undefined;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('|')) {
      (current ??= []).push(line);
    } else if (current) {
      found.push(current);
      current = undefined;
    }
  }
  return current ? [...found, current] : found;
}

test('no page but docs/options.md has a table of the module options', () => {
  const options = Object.keys(resolveOptions());
  // One row may name an option in another sense (the session's `token`); two make a copy of the table.
  for (const page of pages.filter((each) => each !== 'docs/options.md')) {
    for (const table of tables(read(page))) {
      const rows = table.filter((row) => options.some((name) => row.startsWith(`| \`${name}\` |`)));
      assert.ok(rows.length < 2, `${page} repeats rows of the options table; link to docs/options.md instead:\n${rows.join('\n')}`);
    }
  }
});

test('every export of the package is named in docs/', () => {
  const text = docs.map(read).join('\n');
  const entries = new Map([...exported].map(([subpath, symbols]) => [subpath, symbols.map((symbol) => symbol.name)]));
  // The compiler must see at least every value the package exports at run time.
  assert.deepEqual(Object.keys(api).filter((name) => !entries.get('.')?.includes(name)), []);
  assert.deepEqual(Object.keys(clientApi).filter((name) => !entries.get('./client')?.includes(name)), []);
  for (const [subpath, names] of entries) {
    assert.deepEqual(names.filter((name) => !new RegExp(`\\b${name}\\b`).test(text)), [], `exports of ${subpath} that no page of docs/ names`);
  }
});

test('every notice text is in docs/protocol.md, as the client sees it', () => {
  const protocol = read('docs/protocol.md');
  assert.deepEqual(Object.values(api.NOTICES).filter((text) => !protocol.includes(`websocket: ${text}`)), []);
});

test('every close code the server chooses has a row in the close-code table of docs/protocol.md', () => {
  const protocol = read('docs/protocol.md');
  const codes = Object.values(api.CLOSE_CODES);
  assert.ok(codes.length >= 4);
  assert.deepEqual(codes.filter((code) => !new RegExp(`^\\| ${code} \\|`, 'm').test(protocol)), []);
});

test('every error code the package declares has a row in docs/errors.md', (t) => {
  const codes = errorCodes();
  if (codes === undefined) {
    t.skip('the package does not export EasyWsErrorCode yet');
    return;
  }
  const rows = [...read('docs/errors.md').matchAll(/^\| `(EASY_WS_\w+)` \|/gm)].map(([, code]) => code);
  assert.deepEqual(rows.sort(), codes.sort());
});
