// Reads credits.yaml for the CLI: checks the size before reading, so a huge file is refused at once.
import { readFileSync, statSync } from 'node:fs';
import { CreditsError } from '../errors.js';
import { DEFAULT_MAX_FILE_BYTES, loadConfig, type LoadResult } from '../config/load-config.js';

export const maxFileBytes = (): number => {
  const fromEnv = Number(process.env.CREDITS_MAX_FILE_BYTES);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_MAX_FILE_BYTES;
};

export interface ReadConfig {
  result: LoadResult;
  bytes: Buffer | undefined;
}

/** The file's bytes, or the coded error that stops them being read: missing, unreadable, over the limit. */
export function readBoundedFile(file: string): { bytes: Buffer } | { error: CreditsError } {
  const limit = maxFileBytes();
  let size: number;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    size = st.size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const error =
      code === 'ENOENT'
        ? new CreditsError('FILE_NOT_FOUND', { file })
        : new CreditsError('FILE_UNREADABLE', { file, reason: code ?? 'unknown error' });
    return { error };
  }
  if (size > limit) {
    const error = new CreditsError('FILE_TOO_LARGE', { size, limit });
    error.position = { file, line: 1, col: 1 };
    return { error };
  }
  return { bytes: readFileSync(file) };
}

export function readConfigFile(file: string): ReadConfig {
  const read = readBoundedFile(file);
  if ('error' in read) return { result: { ok: false, errors: [read.error] }, bytes: undefined };
  return { result: loadConfig(read.bytes, { file, maxBytes: maxFileBytes() }), bytes: read.bytes };
}
