// Reads credits.yaml for the CLI: checks the size before reading, so a huge file is refused at once.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
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

/**
 * The file's bytes, or the coded error that stops them being read: missing, unreadable, not a regular file
 * (a FIFO would block for ever, a device such as /dev/zero never ends), or over the limit. Opened without
 * blocking and checked on the open descriptor, so what is read is what was checked; links are followed.
 */
export function readBoundedFile(
  file: string,
  limit = maxFileBytes(),
): { bytes: Buffer } | { error: CreditsError } {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    return { error: unreadable(file, err) };
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) return { error: unreadable(file, { code: 'EISDIR' }) };
    if (!st.isFile()) {
      return { error: new CreditsError('FILE_UNREADABLE', { file, reason: 'not a regular file' }) };
    }
    if (st.size > limit) return { error: tooLarge(file, st.size, limit) };
    // Read to the end, but never past the limit: the file may grow while it is read.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(
        Math.min(Math.max(st.size - total, 0) + 1, limit + 1 - total, 1 << 24),
      );
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > limit) return { error: tooLarge(file, total, limit) };
    }
    return { bytes: Buffer.concat(chunks, total) };
  } catch (err) {
    return { error: unreadable(file, err) };
  } finally {
    closeSync(fd);
  }
}

const unreadable = (file: string, err: unknown): CreditsError => {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT'
    ? new CreditsError('FILE_NOT_FOUND', { file })
    : new CreditsError('FILE_UNREADABLE', { file, reason: code ?? 'unknown error' });
};

const tooLarge = (file: string, size: number, limit: number): CreditsError => {
  const error = new CreditsError('FILE_TOO_LARGE', { size, limit });
  error.position = { file, line: 1, col: 1 };
  return error;
};

/** readBoundedFile for callers that catch: throws its coded error (FILE_NOT_FOUND keeps errno ENOENT). */
export function readBoundedBytes(file: string, limit?: number): Buffer {
  const read = readBoundedFile(file, limit);
  if ('bytes' in read) return read.bytes;
  if (read.error.code === 'FILE_NOT_FOUND')
    throw Object.assign(new Error(read.error.message), { code: 'ENOENT' });
  throw read.error;
}

export function readConfigFile(file: string): ReadConfig {
  const read = readBoundedFile(file);
  if ('error' in read) return { result: { ok: false, errors: [read.error] }, bytes: undefined };
  return { result: loadConfig(read.bytes, { file, maxBytes: maxFileBytes() }), bytes: read.bytes };
}
