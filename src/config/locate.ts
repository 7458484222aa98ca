// Turns issue locations (a path or an offset) into line:col. Only called when there are errors, so the
// costly `yaml` document model with source ranges is built on the error path, never on the happy path.
import { createRequire } from 'node:module';
import type * as YamlLib from 'yaml';
import type { Document, Node } from 'yaml';
import type { ConfigPath } from './config-issue.js';

// Loaded on the first error only: the library costs ~30 ms of start-up that valid files never need.
let loaded: typeof YamlLib | undefined;
export const yamlLib = (): typeof YamlLib =>
  (loaded ??= createRequire(import.meta.url)('yaml') as typeof YamlLib);
const lib = yamlLib;

export interface LineCol {
  line: number;
  col: number;
}

/** 1-based line and column of a character offset. */
export function lineColAt(text: string, offset: number): LineCol {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, col: end - lineStart + 1 };
}

export class Locator {
  private doc: Document | undefined;

  constructor(private readonly text: string) {}

  at(offset: number): LineCol {
    return lineColAt(this.text, offset);
  }

  /** Position of the value at path (or of its mapping key); the deepest existing ancestor when it is absent. */
  path(path: ConfigPath, at: 'key' | 'value' = 'value'): LineCol {
    this.doc ??= lib().parseDocument(this.text, {
      lineCounter: new (lib().LineCounter)(),
      uniqueKeys: false,
      keepSourceTokens: false,
    });
    const doc = this.doc;
    let node: unknown = doc.contents;
    // The root node itself (a top-level list starts with `-`, which firstContentOffset skips).
    let offset = (doc.contents as Node | null)?.range?.[0] ?? firstContentOffset(this.text);
    for (let i = 0; i < path.length; i++) {
      if (lib().isAlias(node)) node = node.resolve(doc);
      const step = path[i]!;
      const last = i === path.length - 1;
      if (lib().isMap(node)) {
        const pair = node.items.find((p) => lib().isScalar(p.key) && String(p.key.value) === String(step));
        if (!pair) break;
        const keyRange = (pair.key as Node).range;
        if (last && at === 'key' && keyRange) return this.at(keyRange[0]);
        node = pair.value;
        const valueRange = (pair.value as Node | null)?.range;
        offset =
          valueRange && !(lib().isScalar(pair.value) && pair.value.value === null)
            ? valueRange[0]
            : (keyRange?.[0] ?? offset);
      } else if (lib().isSeq(node) && typeof step === 'number') {
        const item = node.items[step] as Node | undefined;
        if (!item?.range) break;
        node = item;
        offset = item.range[0];
      } else {
        break;
      }
    }
    return this.at(offset);
  }
}

function firstContentOffset(text: string): number {
  const m = /^[^#\s-]/m.exec(text);
  return m ? m.index : 0;
}

/**
 * The innermost bracket (`{`, `[`) or quote (`"`, `'`) that opens before offset and is never closed, if any.
 * A parser notices a missing `}` or `"` only where the next entry (or the end of the file) is; the user wants
 * to see what was left open.
 */
export function unclosedBefore(text: string, offset: number): { offset: number; source: string } | undefined {
  let found: { offset: number; source: string } | undefined;
  const consider = (at: number, source: string): void => {
    if (at < offset && (!found || at > found.offset)) found = { offset: at, source };
  };
  for (const token of new (lib().Parser)().parse(text)) {
    if (token.type !== 'document') continue;
    lib().CST.visit(token, (item) => {
      for (const node of [item.key, item.value]) {
        if (node?.type === 'flow-collection') {
          const close = node.start.source === '{' ? '}' : ']';
          if (!node.end.some((t) => t.source === close)) consider(node.offset, node.start.source);
        } else if (node?.type === 'double-quoted-scalar' && !/^"(?:[^"\\]|\\.)*"$/s.test(node.source)) {
          consider(node.offset, '"');
        } else if (node?.type === 'single-quoted-scalar' && !/^'(?:[^']|'')*'$/s.test(node.source)) {
          consider(node.offset, "'");
        }
      }
    });
  }
  return found;
}
