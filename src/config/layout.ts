// Cuts credits.yaml text into its top-level group entries without parsing the values, so that a plan of a
// file that differs a little from the last applied one can re-parse only the groups whose text changed.
//
// The cut is only made when every line of the file is in a strict one-line subset of YAML: blank, a comment,
// or `key:` / `key: value` where the value is a plain scalar or a `{…}` flow mapping closed on the same line
// (no quotes, block scalars, anchors, aliases, tags, sequences, tabs, CR, document markers or directives).
// In that subset no node spans lines except through indentation, so a group entry is exactly its header line
// at the groups' indentation plus the more indented lines after it, and its value depends on nothing but
// that text. Any other file gives `undefined` and is parsed in full.
export interface GroupBlock {
  /** The group key as written, a slug (so YAML reads it as this very string). */
  key: string;
  /** The header line through the line before the next entry (comments and blank lines included). */
  text: string;
}

export interface Layout {
  /** Everything before the first group entry: the root keys before `groups:` and the `groups:` line. */
  head: string;
  blocks: GroupBlock[];
  /** The root keys after the groups (from the first unindented line after them). */
  tail: string;
}

// One line: indentation, then nothing, a comment, or a one-line mapping entry (group 2 the key, group 3
// set when it has a value). Keys and values start with no YAML indicator; values hold no `#`, `:`, quote or
// bracket (a `{…}` mapping only simple scalars), so nothing can open a node that continues on the next line.
const LINE =
  /( *)(?:#[^\n]*|([^\s#'"&*!|>%@`{}[\],?:-][^\s:#'"{}[\],]*):(?:( +)(?:\{[ A-Za-z0-9_.,:+-]*\}|(?:-(?=[0-9.])|[^\s#'"&*!|>%@`{}[\],?:-])[^\n\t\r#:'"{}[\]]*?))?(?: +#[^\n]*)? *)?(?:\n|$)/y;
/** The schema's group key pattern: YAML reads such a key as exactly its text. */
const GROUP_KEY = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function splitLayout(text: string): Layout | undefined {
  const blocks: GroupBlock[] = [];
  let phase: 'head' | 'groups' | 'tail' = 'head';
  let indent = -1;
  let headEnd = -1;
  let tailStart = text.length;
  let blockStart = -1;
  let firstStart = -1;
  let blockKey = '';
  let pos = 0;
  while (pos < text.length) {
    LINE.lastIndex = pos;
    const m = LINE.exec(text);
    if (!m || LINE.lastIndex === pos) return undefined;
    const start = pos;
    pos = LINE.lastIndex;
    const key = m[2];
    if (key === undefined) continue; // blank or comment: belongs to whatever it follows
    const depth = m[1]!.length;
    if (depth === 0 && key === 'groups') {
      if (phase !== 'head' || m[3] !== undefined) return undefined;
      phase = 'groups';
      headEnd = pos;
      continue;
    }
    if (phase !== 'groups') continue;
    if (depth === 0) {
      phase = 'tail';
      tailStart = start;
      continue;
    }
    if (indent === -1) indent = depth;
    if (depth < indent) return undefined;
    if (depth > indent) continue;
    if (!GROUP_KEY.test(key)) return undefined;
    if (blockStart >= 0) blocks.push({ key: blockKey, text: text.slice(blockStart, start) });
    else firstStart = start;
    blockStart = start;
    blockKey = key;
  }
  if (headEnd === -1) return { head: text, blocks: [], tail: '' };
  if (blockStart >= 0) blocks.push({ key: blockKey, text: text.slice(blockStart, tailStart) });
  return {
    head: text.slice(0, firstStart >= 0 ? firstStart : tailStart),
    blocks,
    tail: text.slice(tailStart),
  };
}

export interface Reparse {
  /** A document of the head, the group entries to read again (in file order) and the tail. */
  text: string;
  /** Keys of the group entries that are byte-identical in both files: not read again. */
  unchanged: Set<string>;
}

const withNewline = (t: string): string => (t === '' || t.endsWith('\n') ? t : t + '\n');

/**
 * The part of `next` that has to be read again when `applied` was read before: every group entry whose text
 * differs from the entry of the same key in `applied`. Undefined when a key repeats (the full parse reports
 * it) or when more than `maxFraction` of a large file's entries changed (a full parse is as quick).
 */
export function partToReread(
  next: Layout,
  applied: Layout,
  { maxFraction = 0.5, smallFile = 65_536 } = {},
): Reparse | undefined {
  const before = new Map<string, string>();
  for (const b of applied.blocks) {
    if (before.has(b.key)) return undefined;
    before.set(b.key, b.text);
  }
  const unchanged = new Set<string>();
  const seen = new Set<string>();
  const reread: boolean[] = [];
  let changedSize = 0;
  let totalSize = 0;
  for (const b of next.blocks) {
    if (seen.has(b.key)) return undefined;
    seen.add(b.key);
    totalSize += b.text.length;
    const same = before.get(b.key) === b.text;
    reread.push(!same);
    if (same) unchanged.add(b.key);
    else changedSize += b.text.length;
  }
  if (changedSize > Math.max(smallFile, totalSize * maxFraction)) return undefined;
  // `groups:` with no entry under it would read as null, so keep one entry even when none changed: reading
  // an unchanged entry again is always allowed.
  if (next.blocks.length > 0 && changedSize === 0) {
    reread[0] = true;
    unchanged.delete(next.blocks[0]!.key);
  }
  let text = withNewline(next.head);
  next.blocks.forEach((b, i) => {
    if (reread[i]) text += withNewline(b.text);
  });
  return { text: text + next.tail, unchanged };
}
