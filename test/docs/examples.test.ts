import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileBlocks, type DocDiagnostic, docPages, extractBlocks } from './doc-examples.js';

// Compiled to dist/test/docs, so the project is three levels up.
const root = fileURLToPath(new URL('../../../', import.meta.url));
// Inside the project, so that the examples import the built package by its own name.
const scratch = join(root, 'dist', 'doc-examples');

/**
 * A page with one mistake, compiled with the real ones: the check must report exactly
 * that mistake, on the line where the reader sees it, and nothing for the blocks around it.
 */
const BROKEN_PAGE = 'test/docs/broken-example.md';
const BROKEN_MARKDOWN = [
  '# A page with one broken example', //                        1
  '', //                                                          2
  '```ts file=greeting.ts', //                                    3
  "export const greeting: string = 'hello';", //                  4
  '```', //                                                       5
  '', //                                                          6
  '```ts', //                                                     7
  "import { Message } from 'nestjs-easy-ws';", //                 8
  "import { greeting } from './greeting.js';", //                 9
  '', //                                                         10
  'const count: number = greeting;', //                          11: the mistake
  "export const message = new Message('count', count);", //      12
  '```', //                                                      13
  '', //                                                         14
  '```js', //                                                    15
  'this is not compiled, being JavaScript', //                   16
  '```', //                                                      17
].join('\n');
const BROKEN_LINE = 11;

const pages = docPages(root);
const blocks = pages.flatMap((page) => extractBlocks(page, readFileSync(join(root, page), 'utf8')));
const diagnostics = compileBlocks(root, scratch, [...blocks, ...extractBlocks(BROKEN_PAGE, BROKEN_MARKDOWN)]);

function report(found: readonly DocDiagnostic[]): string {
  return found.map(({ where, message }) => `${where}: ${message}`).join('\n');
}

test('the README and every page of docs/ have TypeScript examples to check', () => {
  for (const page of ['README.md', 'docs/handlers.md', 'docs/options.md', 'docs/client.md']) {
    assert.ok(blocks.some((block) => block.page === page), `no TypeScript block found in ${page}`);
  }
  assert.ok(blocks.length >= 40, `only ${blocks.length} TypeScript blocks found in ${pages.join(', ')}`);
});

test('every TypeScript example of the README and docs/ compiles against the built package', () => {
  const failures = diagnostics.filter(({ where }) => !where.startsWith(`${BROKEN_PAGE}:`));
  assert.equal(failures.length, 0, `\n${report(failures)}`);
});

test('a broken example fails the check, named by its page and line', () => {
  const reported = diagnostics.filter(({ where }) => where.startsWith(`${BROKEN_PAGE}:`));
  assert.equal(reported.length, 1, `\n${report(reported)}`);
  assert.equal(reported[0].where, `${BROKEN_PAGE}:${BROKEN_LINE}`);
  assert.match(reported[0].message, /^TS2322: Type 'string' is not assignable to type 'number'/);
});

test('a block is named by file= in its info string, or after its line', () => {
  const found = extractBlocks('page.md', ['```ts file=app.module.ts', 'export {};', '```', '', '```typescript', 'export {};', '```'].join('\n'));
  assert.deepEqual(
    found.map(({ file, line }) => ({ file, line })),
    [
      { file: 'app.module.ts', line: 2 },
      { file: 'line-6.ts', line: 6 },
    ],
  );
});

test('a block name that cannot work is refused with the place to fix it', () => {
  const page = (info: string, again = ''): string => [`\`\`\`ts ${info}`, 'export {};', '```', again].join('\n');
  assert.throws(() => extractBlocks('page.md', page('file=app.module.ts', page('file=app.module.ts'))), /page\.md:4: another block .* file=app\.module\.ts/);
  assert.throws(() => extractBlocks('page.md', page('file=../escape.ts')), /page\.md:1: file=\.\.\/escape\.ts is not a file name/);
  assert.throws(() => extractBlocks('page.md', page('skip')), /page\.md:1: unknown info "skip"/);
  assert.throws(() => extractBlocks('page.md', '```ts\nexport {};\n'), /page\.md:1: a code block is never closed/);
});
