// `credits validate`: schema and semantic checks of credits.yaml; no database needed.
import { readConfigFile } from '../read-config-file.js';
import { errorJson, printErrors, type Streams } from '../output.js';

export interface ValidateOptions {
  file: string;
  json?: boolean;
  format?: 'text' | 'json' | 'github';
}

// GitHub's workflow-command escaping: data may not hold %, CR or LF; properties not : or , either.
const escapeData = (s: string): string => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string): string => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** One `::error` workflow command per problem: GitHub shows each on the line of the diff it names. */
export function githubAnnotation(err: ReturnType<typeof errorJson>): string {
  const where = err.file ? [`file=${err.file}`, `line=${err.line}`, `col=${err.col}`] : [];
  const props = [...where, `title=${err.code}`].map((p) => {
    const eq = p.indexOf('=');
    return p.slice(0, eq + 1) + escapeProperty(p.slice(eq + 1));
  });
  const text = err.hint ? `${err.message}\n${err.hint}` : err.message;
  return `::error ${props.join(',')}::${escapeData(text)}`;
}

export function validateCommand(opts: ValidateOptions, streams: Streams): number {
  const { result } = readConfigFile(opts.file);
  const format = opts.json ? 'json' : (opts.format ?? 'text');
  if (format === 'github') {
    if (result.ok) {
      streams.stdout.write(`${opts.file} is valid: account ${result.desired.account.id}\n`);
      return 0;
    }
    for (const err of result.errors) streams.stdout.write(githubAnnotation(errorJson(err)) + '\n');
    const n = result.errors.length;
    streams.stderr.write(`${n} error${n === 1 ? '' : 's'} in ${opts.file}\n`);
    return 1;
  }
  if (format === 'json') {
    const body = result.ok
      ? {
          formatVersion: 1,
          valid: true,
          file: opts.file,
          account: result.desired.account.id,
          groups: result.desired.groups.length,
          members: result.desired.members.length,
        }
      : { formatVersion: 1, valid: false, file: opts.file, errors: result.errors.map(errorJson) };
    streams.stdout.write(JSON.stringify(body, null, 2) + '\n');
    return result.ok ? 0 : 1;
  }
  if (!result.ok) {
    printErrors(result.errors, streams);
    const n = result.errors.length;
    streams.stderr.write(`\n${n} error${n === 1 ? '' : 's'} in ${opts.file}\n`);
    return 1;
  }
  const { desired } = result;
  streams.stdout.write(
    `${opts.file} is valid: account ${desired.account.id}, ${desired.groups.length} groups, ${desired.members.length} members\n`,
  );
  return 0;
}
