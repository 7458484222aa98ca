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
  if (source.startsWith('!<') && source.endsWith('>')) return decodeURIComponent(source.slice(2, -1));
  if (source.startsWith('!!')) return CORE + source.slice(2);
  return source;
}

/** How a tag is shown in messages: `!!name` for the YAML types, else as its full name. */
export const shownTag = (tag: string): string => (tag.startsWith(CORE) ? `!!${tag.slice(CORE.length)}` : tag);

/** Every unsupported tag and every duplicated mapping key of the file, at the offset of the tag or key. */
export function tagAndDuplicateKeyIssues(text: string): ConfigIssue[] {
  const lib = yamlLib();
  const issues: ConfigIssue[] = [];
  const visitTokens = (token: unknown): void => {
    if (Array.isArray(token)) {
      for (const t of token) visitTokens(t);
      return;
    }
    if (typeof token !== 'object' || token === null) return;
    const t = token as { type?: string; source?: string; offset?: number };
    if (t.type === 'tag' && typeof t.source === 'string' && t.source !== '!') {
      const tag = fullTag(t.source);
      if (!ALLOWED_TAGS.has(tag))
        issues.push({ code: 'YAML_TAG', params: { tag: shownTag(tag) }, offset: t.offset });
    }
    for (const value of Object.values(token)) if (typeof value === 'object') visitTokens(value);
  };
  visitTokens([...new lib.Parser().parse(text)]);

  // Keys compare as js-yaml compares them: as text (failsafe: every scalar is its string).
  const docs = lib.parseAllDocuments(text, { schema: 'failsafe', uniqueKeys: false }) as Document[] | unknown;
  for (const doc of Array.isArray(docs) ? (docs as Document[]) : []) {
    lib.visit(doc, {
      Map(_key, map) {
        const seen = new Set<string>();
        for (const pair of map.items) {
          if (!lib.isScalar(pair.key)) continue;
          const key = String(pair.key.value);
          const offset = (pair.key as Node).range?.[0];
          if (seen.has(key)) issues.push({ code: 'YAML_DUPLICATE_KEY', params: { key }, offset });
          seen.add(key);
        }
      },
    });
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
