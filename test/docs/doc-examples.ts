import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

/** One TypeScript block of a Markdown page, as the reader sees it. */
export interface DocBlock {
  /** The page, relative to the project root: `README.md`, `docs/options.md`. */
  readonly page: string;
  /** The line of the page on which the block's code starts (1-based). */
  readonly line: number;
  /** The name the block is written under; `file=` in the info string sets it. */
  readonly file: string;
  readonly code: string;
}

/** A compiler error, placed on the line of the page where the reader sees it. */
export interface DocDiagnostic {
  /** `page:line`, or the path of a file that is not a block. */
  readonly where: string;
  readonly message: string;
}

const TYPESCRIPT_LANGUAGES = new Set(['ts', 'typescript']);
const FILE_NAME = /^[\w-]+(?:\.[\w-]+)*\.ts$/;

/**
 * The ```ts and ```typescript blocks of a page. Each is a module of its own, named by
 * `file=NAME.ts` in its info string (so that other blocks of the page can import
 * `./NAME.js`), or after the line it starts on.
 */
export function extractBlocks(page: string, markdown: string): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  for (let index = 0; index < lines.length; index++) {
    const fence = /^(\s*)(`{3,}|~{3,})\s*(.*)$/.exec(lines[index]);
    if (!fence) {
      continue;
    }
    const [, indent, marker, info] = fence;
    const closes = (line: string): boolean => {
      const text = line.trim();
      return text.length >= marker.length && text === marker[0].repeat(text.length);
    };
    const end = lines.findIndex((line, at) => at > index && closes(line));
    if (end === -1) {
      throw new Error(`${page}:${index + 1}: a code block is never closed`);
    }
    const [language, ...attributes] = info.trim().split(/\s+/);
    if (TYPESCRIPT_LANGUAGES.has(language)) {
      const code = lines
        .slice(index + 1, end)
        .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
        .join('\n');
      blocks.push({ page, line: index + 2, file: blockFile(page, index + 2, attributes), code: `${code}\n` });
    }
    index = end;
  }
  const seen = new Set<string>();
  for (const block of blocks) {
    if (seen.has(block.file)) {
      throw new Error(`${block.page}:${block.line - 1}: another block of this page is already named file=${block.file}`);
    }
    seen.add(block.file);
  }
  return blocks;
}

function blockFile(page: string, line: number, attributes: string[]): string {
  for (const attribute of attributes) {
    const [key, value] = attribute.split('=');
    if (key !== 'file') {
      throw new Error(`${page}:${line - 1}: unknown info "${attribute}"; a TypeScript block takes only file=NAME.ts`);
    }
    if (!FILE_NAME.test(value ?? '')) {
      throw new Error(`${page}:${line - 1}: file=${value ?? ''} is not a file name ending in .ts`);
    }
    return value;
  }
  return `line-${line}.ts`;
}

/** The Markdown pages whose blocks are compiled: the README and every page of docs/. */
export function docPages(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'), { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.md'))
    .map((entry) => `docs/${entry.name}`)
    .sort();
  return ['README.md', ...docs];
}

/**
 * Writes every block as a module under `scratch` (one folder per page) and type-checks
 * them all in one program with the project's compiler settings. `scratch` must be
 * inside the project, so that `nestjs-easy-ws` resolves to the built package through
 * its own `exports`, as it would for an application.
 */
export function compileBlocks(root: string, scratch: string, blocks: readonly DocBlock[]): DocDiagnostic[] {
  rmSync(scratch, { recursive: true, force: true });
  const origins = new Map<string, DocBlock>();
  for (const block of blocks) {
    const path = join(scratch, block.page.replace(/\.md$/, '').replace(/[^\w-]/g, '_'), block.file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, block.code);
    origins.set(path, block);
  }
  const program = ts.createProgram([...origins.keys()], compilerOptions(root));
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const message = `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
    if (!diagnostic.file || diagnostic.start === undefined) {
      return { where: '(no file)', message };
    }
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    const block = origins.get(diagnostic.file.fileName);
    return block
      ? { where: `${block.page}:${block.line + line}`, message }
      : { where: relative(root, diagnostic.file.fileName), message };
  });
}

/** The project's settings, with the browser's globals added for the client's examples. */
function compilerOptions(root: string): ts.CompilerOptions {
  const configPath = join(root, 'tsconfig.json');
  const { config, error } = ts.readConfigFile(configPath, (path) => readFileSync(path, 'utf8'));
  if (error) {
    throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  }
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, root, undefined, configPath);
  return {
    ...options,
    noEmit: true,
    declaration: false,
    sourceMap: false,
    rootDir: undefined,
    outDir: undefined,
    lib: [...(options.lib ?? []), 'lib.dom.d.ts'],
  };
}
