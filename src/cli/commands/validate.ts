// `credits validate`: schema and semantic checks of credits.yaml; no database needed.
import { readConfigFile } from '../read-config-file.js';
import { errorJson, printErrors, type Streams } from '../output.js';

export interface ValidateOptions {
  file: string;
  json?: boolean;
}

export function validateCommand(opts: ValidateOptions, streams: Streams): number {
  const { result } = readConfigFile(opts.file);
  if (opts.json) {
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
