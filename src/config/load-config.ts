// credits.yaml bytes → DeclaredState, or every coded error of the file with its line:col.
// Stages: bytes (size, UTF-8) → YAML (exact numbers, hostile input) → schema → semantic rules → normalise.
import { CreditsError } from '../errors.js';
import type { DeclaredState } from '../declared-state.js';
import type { ConfigIssue } from './config-issue.js';
import type { ExactConfig } from './exact-config.js';
import { parseYamlExact } from './parse-yaml.js';
import { checkSchema } from './schema-check.js';
import { checkSemantics } from './semantic-rules.js';
import { normalise } from './normalise.js';
import { Locator } from './locate.js';

/** Large enough for ~2 million members; anything bigger is refused before parsing. */
export const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;

export interface LoadOptions {
  /** Name shown in errors. */
  file: string;
  maxBytes?: number;
}

export type LoadResult =
  { ok: true; desired: DeclaredState; config: ExactConfig } | { ok: false; errors: CreditsError[] };

export function loadConfig(source: Uint8Array | string, options: LoadOptions): LoadResult {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_FILE_BYTES;
  const size = typeof source === 'string' ? Buffer.byteLength(source) : source.byteLength;
  if (size > maxBytes) return fail(options.file, 'FILE_TOO_LARGE', { size, limit: maxBytes });
  let text: string;
  if (typeof source === 'string') {
    text = source;
  } else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(source);
    } catch {
      return fail(options.file, 'FILE_NOT_UTF8', {}, firstInvalidUtf8(source));
    }
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') return fail(options.file, 'FILE_EMPTY', {});

  const parsed = parseYamlExact(text);
  if (!parsed.ok) return { ok: false, errors: locate(parsed.issues, text, options.file) };
  const schemaIssues = checkSchema(parsed.value);
  if (schemaIssues.length) return { ok: false, errors: locate(schemaIssues, text, options.file) };
  const config = parsed.value as ExactConfig;
  const semanticIssues = checkSemantics(config);
  if (semanticIssues.length) return { ok: false, errors: locate(semanticIssues, text, options.file) };
  return { ok: true, config, desired: normalise(config) };
}

function fail(
  file: string,
  code: 'FILE_TOO_LARGE' | 'FILE_NOT_UTF8' | 'FILE_EMPTY',
  params: Record<string, string | number>,
  at: { line: number; col: number } = { line: 1, col: 1 },
): LoadResult {
  const err = new CreditsError(code, params);
  err.position = { file, ...at };
  return { ok: false, errors: [err] };
}

/** Turns issues into positioned errors, sorted by position so the output reads top to bottom. */
function locate(issues: ConfigIssue[], text: string, file: string): CreditsError[] {
  const locator = new Locator(text);
  const errors = issues.map((issue) => {
    const err = new CreditsError(issue.code, issue.params);
    const at =
      issue.offset !== undefined
        ? locator.at(issue.offset)
        : issue.path
          ? locator.path(issue.path, issue.at)
          : { line: 1, col: 1 };
    err.position = { file, ...at };
    return err;
  });
  return errors.sort((a, b) => a.position!.line - b.position!.line || a.position!.col - b.position!.col);
}

function firstInvalidUtf8(bytes: Uint8Array): { line: number; col: number } {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
      continue;
    }
    if (bytes[i]! < 0x80) continue;
    // Decode the rest of this line to find whether the fault is here.
    let end = bytes.indexOf(0x0a, i);
    if (end === -1) end = bytes.length;
    try {
      decoder.decode(bytes.subarray(lineStart, end));
      i = end - 1;
    } catch {
      return { line, col: i - lineStart + 1 };
    }
  }
  return { line, col: 1 };
}
