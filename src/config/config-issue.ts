// A problem found in credits.yaml before its position is known: a code, parameters, and where (path or offset).
import type { ErrorCode } from '../errors.js';

export type ConfigPath = readonly (string | number)[];

export interface ConfigIssue {
  code: ErrorCode;
  params: Record<string, string | number | undefined>;
  /** Where in the document: a path of mapping keys / sequence indices. */
  path?: ConfigPath;
  /** Point at the mapping key of the last path step rather than its value. */
  at?: 'key' | 'value';
  /** Or a character offset in the source, when the parser knows it. */
  offset?: number;
}

/** Human form of a path for messages: `groups.engineering.members`. */
export const pathText = (path: ConfigPath): string => path.map(String).join('.') || '(top level)';
