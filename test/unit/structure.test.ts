// The shape of src/ that docs/architecture.md describes, checked: every import runs down the
// layers (or stays in its folder), no file is over 350 lines and no function over 80. A change
// that breaks one of these rules fails here with the file and the line, not in review.

import ts from 'typescript';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.join(import.meta.dirname, '..', '..', 'src');

/** The layers from the top (bin/ is above all). A folder may import only folders below it. */
const LAYERS: string[][] = [
  ['cli.ts'],
  ['commands'],
  ['render'],
  ['stats'],
  ['trial'],
  ['scenario', 'remote'],
  ['build'],
  ['guest'],
  ['qemu'],
  ['trace'],
  ['util'],
  ['errors.ts', 'version.ts'],
];
const rank = new Map(LAYERS.flatMap((names, i) => names.map((n) => [n, LAYERS.length - i] as const)));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}
const files = sourceFiles(SRC).map((f) => ({ file: path.relative(SRC, f), text: readFileSync(f, 'utf8') }));
const layerOf = (rel: string) => rel.split(path.sep)[0]!.replace(/\.js$/, '.ts');

describe('the layers of src/', () => {
  it('every top-level entry of src/ has a layer', () => {
    expect([...new Set(files.map((f) => layerOf(f.file)))].filter((l) => !rank.has(l))).toEqual([]);
  });

  it('no import runs up a layer or across to a sibling (types included)', () => {
    const upward: string[] = [];
    for (const { file, text } of files) {
      const from = layerOf(file);
      for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s*'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g)) {
        const target = path.normalize(path.join(path.dirname(file), (m[1] ?? m[2])!));
        const to = layerOf(target);
        if (to !== from && (rank.get(to) ?? 0) >= (rank.get(from) ?? 0)) upward.push(`${file} imports ${m[1] ?? m[2]}`);
      }
    }
    expect(upward).toEqual([]);
  });
});

describe('small rooms', () => {
  it('no file of src/ is over 350 lines', () => {
    const long = files.map(({ file, text }) => ({ file, lines: text.split('\n').length - 1 })).filter((f) => f.lines > 350);
    expect(long).toEqual([]);
  });

  it('no function of src/ is over 80 lines', () => {
    const long: string[] = [];
    for (const { file, text } of files) {
      const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
      const visit = (node: ts.Node): void => {
        if (ts.isFunctionLike(node) && 'body' in node && node.body) {
          const first = source.getLineAndCharacterOfPosition(node.getStart()).line;
          const last = source.getLineAndCharacterOfPosition(node.end).line;
          if (last - first + 1 > 80) long.push(`${file}:${first + 1} (${last - first + 1} lines)`);
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    expect(long).toEqual([]);
  });
});
