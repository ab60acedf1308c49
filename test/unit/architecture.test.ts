/**
 * docs/architecture.md draws the folders of lib/ and which imports which; this test
 * holds the code to the picture: the folder imports are exactly those the table
 * lists, and no file imports itself back through others.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Compiled to dist/test/unit, so the sources are three levels up.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const lib = join(root, 'lib');

async function sources(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true });
  const nested = await Promise.all(entries.map((entry) => (entry.isDirectory() ? sources(join(folder, entry.name)) : [join(folder, entry.name)])));
  return nested.flat().filter((file) => file.endsWith('.ts'));
}

/** Each file of lib/ and the files of lib/ it imports (type imports included: they tie the code together too). */
async function importGraph(): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  for (const file of await sources(lib)) {
    const text = await readFile(file, 'utf8');
    const specifiers = [...text.matchAll(/^\s*(?:import|export)\b(?:[^'";]*?\bfrom)?\s*'(\.[^']+)'/gm)].map(([, specifier]) => specifier);
    graph.set(
      relative(lib, file),
      specifiers.map((specifier) => relative(lib, resolve(dirname(file), specifier.replace(/\.js$/, '.ts')))),
    );
  }
  return graph;
}

/** The folder of a file of lib/: its first path segment, or `index.ts` for the entry point. */
function folderOf(file: string): string {
  return file.includes('/') ? `${file.split('/')[0]}/` : file;
}

/** The table of docs/architecture.md: folder -> the folders it imports, as the doc lists them. */
async function documentedImports(): Promise<Map<string, Set<string>>> {
  const doc = await readFile(join(root, 'docs', 'architecture.md'), 'utf8');
  const rows = [...doc.matchAll(/^\| `([\w./-]+)` \|[^\n]*\|\s*([^|\n]*?)\s*\|$/gm)];
  return new Map(rows.map(([, folder, imports]) => [folder, new Set([...imports.matchAll(/`([\w./-]+)`/g)].map(([, name]) => name))]));
}

test('the folders of lib/ import exactly what docs/architecture.md says they do', async () => {
  const actual = new Map<string, Set<string>>();
  for (const [file, imports] of await importGraph()) {
    const from = folderOf(file);
    const targets = actual.get(from) ?? new Set<string>();
    actual.set(from, targets);
    for (const target of imports.map(folderOf).filter((folder) => folder !== from)) {
      targets.add(target);
    }
  }
  const documented = await documentedImports();
  assert.ok(documented.size >= 6, `docs/architecture.md has a table of the folders (found ${documented.size} rows)`);
  const show = (map: Map<string, Set<string>>) => Object.fromEntries([...map].map(([folder, targets]) => [folder, [...targets].sort()]).sort());
  assert.deepEqual(show(documented), show(actual));
});

test('no file of lib/ imports itself back through others', async () => {
  const graph = await importGraph();
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (file: string): void => {
    if (state.get(file) === 'done') {
      return;
    }
    if (state.get(file) === 'visiting') {
      assert.fail(`an import cycle: ${[...path.slice(path.indexOf(file)), file].join(' -> ')}`);
    }
    state.set(file, 'visiting');
    path.push(file);
    for (const target of graph.get(file) ?? []) {
      visit(target);
    }
    path.pop();
    state.set(file, 'done');
  };
  [...graph.keys()].forEach(visit);
  assert.ok(graph.size > 30, `read ${graph.size} files`);
});
