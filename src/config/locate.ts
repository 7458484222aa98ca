// Turns issue locations (a path or an offset) into line:col. Only called when there are errors, so the
// costly `yaml` document model with source ranges is built on the error path, never on the happy path.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { ConfigPath } from './config-issue.js';

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
    this.doc ??= parseDocument(this.text, {
      lineCounter: new LineCounter(),
      uniqueKeys: false,
      keepSourceTokens: false,
    });
    const doc = this.doc;
    let node: unknown = doc.contents;
    let offset = firstContentOffset(this.text);
    for (let i = 0; i < path.length; i++) {
      if (isAlias(node)) node = node.resolve(doc);
      const step = path[i]!;
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(step));
        if (!pair) break;
        const keyRange = (pair.key as Node).range;
        if (last && at === 'key' && keyRange) return this.at(keyRange[0]);
        node = pair.value;
        const valueRange = (pair.value as Node | null)?.range;
        offset =
          valueRange && !(isScalar(pair.value) && pair.value.value === null)
            ? valueRange[0]
            : (keyRange?.[0] ?? offset);
      } else if (isSeq(node) && typeof step === 'number') {
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
