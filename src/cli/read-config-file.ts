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

export function readConfigFile(file: string): ReadConfig {
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
    return { result: { ok: false, errors: [error] }, bytes: undefined };
  }
  if (size > limit) {
    const err = new CreditsError('FILE_TOO_LARGE', { size, limit });
    err.position = { file, line: 1, col: 1 };
    return { result: { ok: false, errors: [err] }, bytes: undefined };
  }
  const bytes = readFileSync(file);
  return { result: loadConfig(bytes, { file, maxBytes: limit }), bytes };
}
