// Terminal output helpers: colour only on a TTY without NO_COLOR, errors one line each.
import { formatError, isCreditsError, CreditsError } from '../errors.js';

export interface Streams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export const defaultStreams: Streams = { stdout: process.stdout, stderr: process.stderr };

export function useColour(stream: { isTTY?: boolean }): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

/** Unexpected errors become INTERNAL without a stack trace; coded errors print as they are. */
export function toCreditsError(err: unknown): CreditsError {
  if (isCreditsError(err)) return err;
  const e = new CreditsError('INTERNAL');
  if (process.env.CREDITS_DEBUG) e.details.cause = err instanceof Error ? err.stack : String(err);
  return e;
}

export function printErrors(errors: unknown[], streams: Streams = defaultStreams): void {
  for (const err of errors) {
    const ce = toCreditsError(err);
    streams.stderr.write(formatError(ce) + '\n');
    if (ce.details.cause) streams.stderr.write(String(ce.details.cause) + '\n');
  }
}

export const errorJson = (err: CreditsError) => ({
  code: err.code,
  message: err.message,
  ...(err.hint ? { hint: err.hint } : {}),
  ...(err.position ? { file: err.position.file, line: err.position.line, col: err.position.col } : {}),
});
