/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): the functions with the most
 * self time, and self time by package. Usage:
 * `node dist/bench/cpuprofile-summary.js FILE [TOP] [SKIP_MS]`, where SKIP_MS leaves out
 * the first milliseconds of the profile (the process starting up).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Where a function lives: a package, node's internals, our library, or a V8 pseudo-frame. */
function origin(url: string, functionName: string): string {
  if (!url) {
    return functionName.startsWith('(') ? functionName : '(native)';
  }
  if (url.startsWith('node:')) {
    return 'node internals';
  }
  const inModules = url.lastIndexOf('/node_modules/');
  if (inModules !== -1) {
    const parts = url.slice(inModules + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const inDist = url.lastIndexOf('/dist/');
  return inDist === -1 ? url : url.slice(inDist + '/dist/'.length).split('/')[0] === 'lib' ? 'nestjs-easy-ws' : 'bench';
}

function shortLocation(url: string, line: number): string {
  if (!url) {
    return '';
  }
  const inModules = url.lastIndexOf('/node_modules/');
  const inDist = url.lastIndexOf('/dist/');
  const path = inModules !== -1 ? url.slice(inModules + '/node_modules/'.length) : inDist !== -1 ? url.slice(inDist + 1) : url;
  return `${path}:${line + 1}`;
}

function table(rows: ReadonlyArray<readonly [string, number]>, total: number, top: number): string[] {
  return rows.slice(0, top).map(([name, micros]) => `${((micros / total) * 100).toFixed(1).padStart(5)}%  ${name}`);
}

/** The summary as lines of text; idle time, and the first `skipMs` of the profile, are left out. */
export function summariseProfile(file: string, top = 15, skipMs = 0): string[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const byFunction = new Map<string, number>();
  const byOrigin = new Map<string, number>();
  let busy = 0;
  let elapsed = 0;
  profile.samples.forEach((id, index) => {
    const node = byId.get(id);
    const micros = profile.timeDeltas[index] ?? 0;
    elapsed += micros;
    if (!node || node.callFrame.functionName === '(idle)' || elapsed < skipMs * 1000) {
      return;
    }
    const { functionName, url, lineNumber } = node.callFrame;
    const name = `${functionName || '(anonymous)'}  ${shortLocation(url, lineNumber)}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
    const from = origin(url, functionName);
    byOrigin.set(from, (byOrigin.get(from) ?? 0) + micros);
    busy += micros;
  });
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);
  return [
    `busy ${(busy / 1e6).toFixed(2)} s; self time by function:`,
    ...table(sorted(byFunction), busy, top),
    'self time by origin:',
    ...table(sorted(byOrigin), busy, top),
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, top, skipMs] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node dist/bench/cpuprofile-summary.js FILE.cpuprofile [TOP] [SKIP_MS]');
    process.exit(2);
  }
  console.log(summariseProfile(file, Number(top ?? 15), Number(skipMs ?? 0)).join('\n'));
}
