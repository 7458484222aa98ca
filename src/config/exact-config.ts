// The generated config types with every number replaced by the ExactNumber it was parsed as.
import type { CreditsConfig } from './generated/credits-config.js';
import type { ExactNumber } from './exact-yaml.js';

type Exact<T> = T extends number
  ? ExactNumber
  : T extends readonly (infer U)[]
    ? Exact<U>[]
    : T extends object
      ? { [K in keyof T]: Exact<T[K]> }
      : T;

/** credits.yaml after the schema stage: the generated shape, numbers still exact. */
export type ExactConfig = Exact<CreditsConfig>;
export type ExactGroup = NonNullable<NonNullable<ExactConfig['groups']>[string]>;
export type ExactMember = NonNullable<NonNullable<ExactGroup['members']>[string]>;
