/**
 * docs/testing.md shows the tests of the sample's chat for node:test and for Jest, and
 * the Jest configuration: they are the files of test/sample/, which run for real. The
 * node:test file is one of the tests `npm test` runs; this runs the Jest one with Jest,
 * as the page says to, and runs both with one expectation broken, to show that each
 * runner reports the test kit's failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractBlocks } from './doc-examples.js';

// Compiled to dist/test/docs, so the project is three levels up.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string): string => readFileSync(join(root, path), 'utf8');
const PAGE = 'docs/testing.md';

/** How the page says to run the Jest example in this repository. */
const JEST_COMMAND = 'node --experimental-vm-modules node_modules/jest/bin/jest.js --config test/sample/jest.config.json';

/** Where a broken copy of each example goes: as deep as test/sample, so that its imports resolve the same way. */
const MUTATED = join(root, 'dist', 'test', 'sample-mutated');

/** The expectation each broken copy changes: the channel's first frame is `joined`, never `left`. */
const EXPECTATION = "expectFrame('joined')";
const BROKEN = "expectFrame('left')";

interface Run {
  readonly code: number;
  readonly output: string;
}

/** Runs `node` with `args` in the project, and returns its exit code and everything it printed. */
function run(args: string[]): Promise<Run> {
  // Without this, a `node --test` started from a test would take itself for part of this one and run nothing.
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.NODE_TEST_CONTEXT;
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: root, env }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

/** A copy of a built example with its first such expectation broken. */
function brokenCopy(built: string, name: string): string {
  const code = read(built);
  assert.ok(code.includes(EXPECTATION), `${built} expects ${EXPECTATION}; change this test with the example`);
  mkdirSync(MUTATED, { recursive: true });
  const path = join(MUTATED, name);
  writeFileSync(path, code.replace(EXPECTATION, BROKEN));
  return path;
}

test('docs/testing.md shows the tests that run and the Jest configuration, verbatim', () => {
  const page = read(PAGE);
  const blocks = extractBlocks(PAGE, page);
  for (const [name, file] of [
    ['chat.node.test.ts', 'test/sample/chat.node.test.ts'],
    ['chat.spec.ts', 'test/sample/chat.spec.ts'],
  ]) {
    assert.equal(blocks.find((block) => block.file === name)?.code, read(file), `${PAGE} shows ${file} as the block file=${name}`);
  }
  assert.ok(page.includes(`\`\`\`json\n${read('test/sample/jest.config.json')}\`\`\``), `${PAGE} shows test/sample/jest.config.json`);
  assert.ok(page.includes(JEST_COMMAND), `${PAGE} says how to run Jest: ${JEST_COMMAND}`);
});

test('the Jest example passes under Jest, run as the page says', async () => {
  const { code, output } = await run(JEST_COMMAND.split(' ').slice(1));
  assert.equal(code, 0, output);
  assert.match(output, /Tests: +4 passed, 4 total/);
});

test('each example fails, with the test kit\'s message, when the chat does not send what it expects', async () => {
  const node = brokenCopy('dist/test/sample/chat.node.test.js', 'chat.node.mutated.js');
  brokenCopy('dist/test/sample/chat.spec.js', 'chat.spec.js');
  const [underNode, underJest] = await Promise.all([
    run(['--test', node]),
    run([...JEST_COMMAND.split(' ').slice(1), '--rootDir', MUTATED]),
  ]);
  for (const [runner, { code, output }] of [['node:test', underNode], ['Jest', underJest]] as const) {
    assert.notEqual(code, 0, `${runner} reported the broken example as passing:\n${output}`);
    assert.match(output, /Expected a frame "left" within 2000 ms, but none came/, `${runner}'s output`);
  }
  assert.match(underJest.output, /Tests: +1 failed, 3 passed, 4 total/);
  assert.match(underNode.output, /# fail 1/);
});
