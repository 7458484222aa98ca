// The YAML stage's problems past the first: js-yaml stops at its first error. Duplicate keys and tags do not
// stop the file from being read, so a walk of the `yaml` library's syntax tree finds all of them, and a
// lenient reading (duplicates and any tag allowed, see LENIENT_SCHEMA) finds the next problem of another kind.
// Error path only: the `yaml` library is loaded lazily (see locate.ts).
import yaml from 'js-yaml';
import type { Document, Node } from 'yaml';
import { EXACT_SCHEMA } from './exact-yaml.js';
import { yamlLib } from './locate.js';
import type { ConfigIssue } from './config-issue.js';

const CORE = 'tag:yaml.org,2002:';
/** The tags EXACT_SCHEMA knows; any other is YAML_TAG. */
const ALLOWED_TAGS = new Set(['str', 'seq', 'map', 'null', 'bool', 'int', 'float'].map((t) => CORE + t));

/** A tag as its full name (`!!binary` → `tag:yaml.org,2002:binary`, `!<x>` → `x`), as js-yaml names it. */
function fullTag(source: string): string {
  if (source.startsWith('!<') && source.endsWith('>')) {
    try {
      return decodeURIComponent(source.slice(2, -1));
    } catch {
      return source.slice(2, -1); // a malformed %-escape: named as written
    }
  }
  if (source.startsWith('!!')) return CORE + source.slice(2);
  return source;
}

/** How a tag is shown in messages: `!!name` for the YAML types, else as its full name. */
export const shownTag = (tag: string): string => (tag.startsWith(CORE) ? `!!${tag.slice(CORE.length)}` : tag);

/**
 * Every unsupported tag and every duplicated mapping key of the file, at the offset of the tag or key.
 * Iterative walks: a file may nest thousands of levels (it is then also YAML_TOO_DEEP).
 */
export function tagAndDuplicateKeyIssues(text: string): ConfigIssue[] {
  const lib = yamlLib();
  const issues: ConfigIssue[] = [];
  const tokens: unknown[] = [...new lib.Parser().parse(text)];
  for (let token = tokens.pop(); token !== undefined; token = tokens.pop()) {
    if (typeof token !== 'object' || token === null) continue;
    const t = token as { type?: string; source?: string; offset?: number };
    if (t.type === 'tag' && typeof t.source === 'string' && t.source !== '!') {
      const tag = fullTag(t.source);
      if (!ALLOWED_TAGS.has(tag))
        issues.push({ code: 'YAML_TAG', params: { tag: shownTag(tag) }, offset: t.offset });
    }
    for (const value of Object.values(token)) if (typeof value === 'object') tokens.push(value);
  }

  // Keys compare as js-yaml compares them: as text (failsafe: every scalar is its string).
  let docs: Document[];
  try {
    docs = lib.parseAllDocuments(text, { schema: 'failsafe', uniqueKeys: false }) as Document[];
  } catch {
    return issues; // nesting too deep for the `yaml` library: the tags found are still right
  }
  const nodes: unknown[] = Array.isArray(docs) ? docs.map((d) => d.contents) : [];
  for (let node = nodes.pop(); node !== undefined; node = nodes.pop()) {
    if (lib.isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        nodes.push(pair.value);
        if (!lib.isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        if (seen.has(key))
          issues.push({ code: 'YAML_DUPLICATE_KEY', params: { key }, offset: (pair.key as Node).range?.[0] });
        seen.add(key);
      }
    } else if (lib.isSeq(node)) {
      nodes.push(...node.items);
    }
  }
  return issues;
}

// Any tag is read as the plain value under it, so the lenient reading goes past tags.
const anyTag = (['scalar', 'sequence', 'mapping'] as const).map(
  (kind) => new yaml.Type('', { kind, multi: true, construct: (data: unknown) => data }),
);
const LENIENT_SCHEMA = EXACT_SCHEMA.extend({ explicit: anyTag });

/** Reads the file past duplicate keys and tags; the error of another kind it meets, if any. */
export function lenientLoad(
  text: string,
  options: yaml.LoadOptions,
): { ok: true; value: unknown } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: yaml.load(text, { ...options, schema: LENIENT_SCHEMA, json: true }) };
  } catch (error) {
    return { ok: false, error };
  }
}
