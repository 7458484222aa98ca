// The bytes of credits.yaml as planning sees them: their digest (what a plan and the last apply are keyed
// by), their text as loadConfig decodes it, and a cheap guess at the account they name.
import { createHash } from 'node:crypto';

export const digestOf = (bytes: Uint8Array | string): string =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** The file's bytes as text, BOM kept, so that its UTF-8 encoding is those very bytes (and digest). */
export function configText(bytes: Uint8Array | string): string {
  return typeof bytes === 'string'
    ? bytes
    : new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
}

/** The file as text, the way loadConfig decodes it; undefined where loadConfig would report an error. */
export function decodeConfigText(bytes: Uint8Array | string, maxBytes: number): string | undefined {
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
  if (size > maxBytes) return undefined;
  let text: string;
  try {
    text = typeof bytes === 'string' ? bytes : new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text.trim() === '' ? undefined : text;
}

/** The `id:` under a top-level `account:` near the start of the file, if it looks like one; only a guess. */
export function guessAccountId(bytes: Uint8Array | string): string | undefined {
  const start =
    typeof bytes === 'string'
      ? bytes.slice(0, 16_384)
      : Buffer.from(bytes.subarray(0, 16_384)).toString('utf8');
  return /^account:[ \t]*\r?\n(?:[ \t].*\r?\n|\r?\n)*?[ \t]+id:[ \t]*([a-z0-9][a-z0-9_-]{0,62})[ \t]*\r?$/m.exec(
    start,
  )?.[1];
}
