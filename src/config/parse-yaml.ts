// Stage 1: YAML text → a tree of plain values with exact numbers, refusing hostile input (tags, alias bombs,
// several documents, deep nesting) with coded issues. Fast path: js-yaml, no document model.
import yaml from 'js-yaml';
import { EXACT_SCHEMA, ExactNumber } from './exact-yaml.js';
import type { ConfigIssue, ConfigPath } from './config-issue.js';
import { unclosedBefore } from './locate.js';
import { lenientLoad, shownTag, tagAndDuplicateKeyIssues } from './yaml-problems.js';

/** Aliases may repeat at most this many nodes (collections, keys and scalars) beyond those of the file. */
export const ALIAS_EXPANSION_LIMIT = 10_000;
export const MAX_DEPTH = 64;

export type ParseOutcome = { ok: true; value: unknown } | { ok: false; issues: ConfigIssue[] };

const LOAD_OPTIONS = { maxDepth: MAX_DEPTH } as yaml.LoadOptions;

export function parseYamlExact(text: string): ParseOutcome {
  let value: unknown;
  try {
    value = yaml.load(text, { ...LOAD_OPTIONS, schema: EXACT_SCHEMA, json: false });
  } catch (err) {
    return { ok: false, issues: allIssues(issueFromYamlError(err, text), text) };
  }
  if (value === undefined || value === null) {
    return { ok: false, issues: [{ code: 'FILE_EMPTY', params: {}, offset: 0 }] };
  }
  // Only an alias (`*name`) makes js-yaml share a node; without a `*` anywhere the value is a plain tree.
  const aliasIssue = text.includes('*') ? checkAliasExpansion(value) : undefined;
  if (aliasIssue) return { ok: false, issues: [aliasIssue] };
  return { ok: true, value };
}

/**
 * Every problem of the YAML stage given the first one js-yaml met. After a duplicate key or a tag the file can
 * still be read: every other duplicate and tag is found, and the next problem of another kind (syntax, depth,
 * a second document, alias expansion). After any other problem the rest of the file cannot be read
 * reliably, so it is reported alone.
 */
function allIssues(first: ConfigIssue, text: string): ConfigIssue[] {
  if (first.code !== 'YAML_DUPLICATE_KEY' && first.code !== 'YAML_TAG') return [first];
  const issues = [first, ...tagAndDuplicateKeyIssues(text)];
  const lenient = lenientLoad(text, LOAD_OPTIONS);
  if (!lenient.ok) {
    issues.push(issueFromYamlError(lenient.error, text));
  } else if (text.includes('*')) {
    const alias = checkAliasExpansion(lenient.value);
    if (alias) issues.push(alias);
  }
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.code}|${i.offset ?? ''}|${(i.path ?? []).join('\u0000')}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function issueFromYamlError(err: unknown, text: string): ConfigIssue {
  if (!(err instanceof yaml.YAMLException)) {
    // js-yaml recursion on pathological input can overflow the stack; report it as nesting.
    return { code: 'YAML_TOO_DEEP', params: { limit: MAX_DEPTH }, offset: 0 };
  }
  const reason = err.reason ?? err.message;
  const offset = err.mark?.position;
  if (/single document/.test(reason)) {
    return { code: 'YAML_MULTI_DOCUMENT', params: {}, offset: secondDocumentOffset(text) };
  }
  const tag = /unknown tag !<([^>]*)>/.exec(reason);
  if (tag) {
    const shown = shownTag(tag[1]!);
    // The mark is after the tagged node; point at the tag as written (`!!binary`, `!<…>`, `!env`).
    const at = offset === undefined ? -1 : lastIndexOfAny(text, [shown, `!<${tag[1]!}>`], offset);
    return { code: 'YAML_TAG', params: { tag: shown }, offset: at >= 0 ? at : offset };
  }
  if (/duplicated mapping key/.test(reason)) {
    const key = offset === undefined ? '' : keyAt(text, offset);
    return { code: 'YAML_DUPLICATE_KEY', params: { key }, offset };
  }
  if (/maxDepth/.test(reason)) return { code: 'YAML_TOO_DEEP', params: { limit: MAX_DEPTH }, offset };
  if (offset === undefined) return { code: 'YAML_SYNTAX', params: { reason }, offset };
  const alias = /unidentified alias "([^"]*)"/.exec(reason);
  if (alias) {
    // The mark is after the alias name; point at its `*`.
    const at = text.lastIndexOf(`*${alias[1]!}`, offset);
    return { code: 'YAML_SYNTAX', params: { reason }, offset: at >= 0 ? at : offset };
  }
  // A `{`, `[` or quote left open is noticed only at the next entry or the end; point at what was left open.
  const open = unclosedBefore(text, offset);
  if (open) {
    return {
      code: 'YAML_SYNTAX',
      params: { reason: `${open.source} is never closed (${reason})` },
      offset: open.offset,
    };
  }
  if (/^bad indentation/.test(reason)) {
    // The mark is at the `:` (or `-`) of the badly indented entry; point at the start of the entry.
    const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
    const indent = /^[ \t]*/.exec(text.slice(lineStart, offset))![0].length;
    return { code: 'YAML_SYNTAX', params: { reason }, offset: lineStart + indent };
  }
  return { code: 'YAML_SYNTAX', params: { reason }, offset };
}

function lastIndexOfAny(text: string, needles: string[], before: number): number {
  return Math.max(...needles.map((n) => text.lastIndexOf(n, before)));
}

/** The text of the mapping key starting at offset, for duplicate-key messages. */
function keyAt(text: string, offset: number): string {
  const line = text.slice(offset, text.indexOf('\n', offset) === -1 ? undefined : text.indexOf('\n', offset));
  const m = /^\s*("[^"]*"|'[^']*'|[^:#]+?)\s*:/.exec(line);
  return m ? m[1]!.trim() : line.trim().slice(0, 60);
}

/** Offset of the `---` (or `...`) that ends the first document with content. */
function secondDocumentOffset(text: string): number {
  const marker = /^(---|\.\.\.)(?=\s|$)/gm;
  let sawContent = false;
  let last = 0;
  for (let m = marker.exec(text); m; m = marker.exec(text)) {
    const between = text.slice(last, m.index).replace(/#.*$/gm, '').trim();
    if (between.length > 0) sawContent = true;
    if (sawContent) return m.index;
    last = m.index + m[0].length;
  }
  return 0;
}

/**
 * js-yaml resolves an alias to the same object, so the loaded value is a DAG. Walking it as a tree (which
 * every later stage does) could explode: a "billion laughs" file. Measure the expanded size with a memo in
 * linear time and refuse when aliases add more than the limit.
 */
function checkAliasExpansion(root: unknown): ConfigIssue | undefined {
  const sizes = new Map<object, number>();
  const seen = new Set<object>();
  let repeated = 0;
  let firstRepeat: ConfigPath | undefined;
  const isNode = (v: unknown): v is object =>
    typeof v === 'object' && v !== null && !(v instanceof ExactNumber);

  // Every node counts: the collection, each mapping key, and each value, scalars included (an alias to a list
  // of 1,000 plain values repeats 1,001 nodes).
  const sizeOf = (node: object): number => {
    const memo = sizes.get(node);
    if (memo !== undefined) return memo;
    const values = Object.values(node);
    let size = 1 + (Array.isArray(node) ? 0 : values.length);
    for (const child of values) size += isNode(child) ? sizeOf(child) : 1;
    sizes.set(node, size);
    return size;
  };
  // Depth-first over distinct nodes only; a node met again is an alias use that costs its expanded size.
  // One path stack, copied only for the first repeat (a copy per node would dominate on large files).
  const path: (string | number)[] = [];
  const visit = (node: object): void => {
    const isList = Array.isArray(node);
    for (const key of Object.keys(node)) {
      const child = (node as Record<string, unknown>)[key];
      if (!isNode(child)) continue;
      path.push(isList ? Number(key) : key);
      if (seen.has(child)) {
        repeated += sizeOf(child);
        firstRepeat ??= [...path];
      } else {
        seen.add(child);
        visit(child);
      }
      path.pop();
      if (repeated > ALIAS_EXPANSION_LIMIT) return;
    }
  };
  if (isNode(root)) {
    seen.add(root);
    visit(root);
  }
  if (repeated > ALIAS_EXPANSION_LIMIT) {
    return { code: 'YAML_ALIAS_LIMIT', params: { limit: ALIAS_EXPANSION_LIMIT }, path: firstRepeat ?? [] };
  }
  return undefined;
}
