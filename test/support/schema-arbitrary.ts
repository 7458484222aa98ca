// fast-check arbitraries derived from a route's JSON Schema: mostly valid values (so requests reach the
// handlers), sometimes a wrong type or a hostile string (so validation is exercised too).
import fc from 'fast-check';

type Schema = Record<string, unknown>;

const hostile = fc.constantFrom(
  '',
  ' ',
  "'; DROP TABLE members; --",
  '\u0000',
  'é'.repeat(300),
  '{"$ne":1}',
  '../../etc/passwd',
);

/** A string for a pattern we use in the route schemas; anything else gets a generic string. */
function stringFor(schema: Schema): fc.Arbitrary<string> {
  const pattern = String(schema.pattern ?? '');
  if (pattern.includes('@')) {
    return fc.constantFrom('alice@one.test', 'bob@one.test', 'nobody@one.test', 'alice@two.test', 'x@y');
  }
  if (pattern.startsWith('^\\d')) {
    return fc.oneof(
      fc.constantFrom('0', '1', '0.000001', '999999999999999.999999'),
      fc.nat(100_000).map(String),
    );
  }
  if (pattern.startsWith('^[a-z0-9]')) return fc.constantFrom('eng', 'default', 'missing', 'ops');
  if (schema.format === 'uuid') return fc.uuid();
  return fc.string({ maxLength: Number(schema.maxLength ?? 40) });
}

export function arbitraryFor(schema: Schema | undefined): fc.Arbitrary<unknown> {
  if (!schema) return fc.constant(undefined);
  const valid = validFor(schema);
  // One time in eight, something the schema does not allow.
  return fc.oneof(
    { weight: 7, arbitrary: valid },
    { weight: 1, arbitrary: fc.oneof(hostile, fc.integer(), fc.constant(null), fc.json()) },
  );
}

function validFor(schema: Schema): fc.Arbitrary<unknown> {
  if (Array.isArray(schema.anyOf)) return fc.oneof(...(schema.anyOf as Schema[]).map(validFor));
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return stringFor(schema);
    case 'integer':
      return fc.integer({
        min: Number(schema.minimum ?? -10),
        max: Math.min(Number(schema.maximum ?? 1000), 1000),
      });
    case 'number':
      return fc.double({ min: 0, max: 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, Schema>;
      const required = new Set((schema.required ?? []) as string[]);
      const entries = Object.entries(props).map(([k, s]) => [k, validFor(s)] as const);
      if (!entries.length) return fc.constant({});
      return fc.record(Object.fromEntries(entries), {
        requiredKeys: Object.keys(props).filter((k) => required.has(k)),
      });
    }
    default:
      return fc.json();
  }
}
