// The `$schema` path a written credits.yaml names for the YAML language server: this package's own schema,
// relative to the file's folder (./schema/… in a clone, ./node_modules/credits/schema/… where installed).
import { existsSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/cli/schema-path.js and src/cli/schema-path.ts both sit two folders below the package root.
const packageSchema = fileURLToPath(new URL('../../schema/credits.schema.json', import.meta.url));

export function schemaPathFor(file: string): string {
  if (!existsSync(packageSchema)) return './node_modules/credits/schema/credits.schema.json';
  const rel = relative(dirname(resolve(file)), packageSchema)
    .split(sep)
    .join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}
