import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { docPages } from './doc-examples.js';

// Compiled to dist/test/docs, so the project is three levels up.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const pages = [...docPages(root), 'CHANGELOG.md', 'CONTRIBUTING.md'];

/** The anchors GitHub makes for a page's headings: lower case, punctuation dropped, spaces as hyphens. */
function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
    }
    const heading = !fenced && /^#{1,6}\s+(.*)$/.exec(line);
    if (heading) {
      const slug = heading[1].trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
      let unique = slug;
      for (let count = 1; found.has(unique); count++) {
        unique = `${slug}-${count}`;
      }
      found.add(unique);
    }
  }
  return found;
}

/** The relative links of a page (outside code): `[text](target)`. */
function links(markdown: string): string[] {
  const prose = markdown.replace(/^(\s*)(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1\2\s*$/gm, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map(([, target]) => target).filter((target) => !/^[a-z]+:/i.test(target));
}

test('every link between the pages of the docs leads to a page and heading that exist', () => {
  const broken: string[] = [];
  for (const page of pages) {
    const markdown = readFileSync(join(root, page), 'utf8');
    for (const link of links(markdown)) {
      const [path, anchor] = link.split('#');
      const target = path === '' ? page : normalize(join(dirname(page), path));
      if (!existsSync(join(root, target))) {
        broken.push(`${page}: ${link} (no such file)`);
      } else if (anchor !== undefined && target.endsWith('.md') && !anchors(readFileSync(join(root, target), 'utf8')).has(anchor)) {
        broken.push(`${page}: ${link} (no such heading in ${target})`);
      }
    }
  }
  assert.deepEqual(broken, []);
});

test('the link check sees links and headings as GitHub renders them', () => {
  assert.deepEqual(links('See [a](a.md#x), `[b](b.md)`, [c](https://example.com).\n```md\n[d](d.md)\n```\n'), ['a.md#x']);
  assert.deepEqual(
    [...anchors('# `@Command(name)`\n## Acknowledged mode (new)\n## 403 `Authentication failed`\n## `ERR_REQUIRE_ESM`, more\n## Options\n## Options\n')],
    ['commandname', 'acknowledged-mode-new', '403-authentication-failed', 'err_require_esm-more', 'options', 'options-1'],
  );
});
