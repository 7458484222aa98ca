// A js-yaml schema that keeps numbers exact: every int/float scalar becomes an ExactNumber holding its source
// text, so amounts never pass through a binary float. No other tags exist, so no tag can construct anything.
import yaml from 'js-yaml';

/** A YAML number as written; `text` is the source (hex/octal ints converted to decimal). */
export class ExactNumber {
  constructor(
    readonly text: string,
    /** The source form, for messages. */
    readonly source: string = text,
  ) {}
  get isFinite(): boolean {
    return !/inf|nan/i.test(this.text);
  }
  // js-yaml turns keys whose Object.prototype.toString is "[object Object]" into that literal text;
  // a tag of our own makes it call toString() instead, so `123:` stays "123".
  get [Symbol.toStringTag](): string {
    return 'ExactNumber';
  }
  toString(): string {
    return this.source;
  }
  /** A float for schema validation only; money never uses it. */
  toNumber(): number {
    if (/^[-+]?\.inf$/i.test(this.text)) return this.text.startsWith('-') ? -Infinity : Infinity;
    if (/^\.nan$/i.test(this.text)) return NaN;
    return Number(this.text);
  }
}

// YAML 1.2 core schema number forms.
const INT_DEC = /^[-+]?[0-9]+$/;
const INT_OCT = /^0o[0-7]+$/;
const INT_HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const FLOAT_SPECIAL = /^([-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$/;

const intType = new yaml.Type('tag:yaml.org,2002:int', {
  kind: 'scalar',
  resolve: (data: string | null) =>
    data !== null && (INT_DEC.test(data) || INT_OCT.test(data) || INT_HEX.test(data)),
  construct: (data: string) => {
    if (INT_OCT.test(data)) return new ExactNumber(BigInt('0o' + data.slice(2)).toString(), data);
    if (INT_HEX.test(data)) return new ExactNumber(BigInt(data).toString(), data);
    return new ExactNumber(data);
  },
  instanceOf: ExactNumber,
});

const floatType = new yaml.Type('tag:yaml.org,2002:float', {
  kind: 'scalar',
  resolve: (data: string | null) => data !== null && (FLOAT.test(data) || FLOAT_SPECIAL.test(data)),
  construct: (data: string) => new ExactNumber(data),
  instanceOf: ExactNumber,
});

// @types/js-yaml omits the exported built-in types; null and bool are the YAML 1.2 core ones.
const builtins = (yaml as unknown as { types: Record<'null' | 'bool', yaml.Type> }).types;

export const EXACT_SCHEMA = yaml.FAILSAFE_SCHEMA.extend({
  implicit: [builtins.null, builtins.bool, intType, floatType],
});
