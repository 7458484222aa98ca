// Generated files (types and the ahead-of-time schema validator) must match schema/credits.schema.json.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';

describe('generated files', () => {
  it('src/config/generated is current with the schema (npm run generate)', () => {
    const r = spawnSync(process.execPath, ['scripts/generate.mjs', '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
