// User* → Resolved* (docs/architecture.md#habits): the one place derived fields are filled in.
import type { ParsedModelConfig } from './schema.ts';

/** A model config with every derived field explicit. */
export interface ResolvedModelConfig extends ParsedModelConfig {
  numKvHeads: number;
  headDim: number;
  sharedDFf: number;
}

export function resolveModelConfig(m: ParsedModelConfig): ResolvedModelConfig {
  return {
    ...m,
    numKvHeads: m.numKvHeads ?? m.numHeads,
    headDim: m.headDim ?? m.dModel / m.numHeads,
    sharedDFf: m.sharedDFf ?? m.dFf,
  };
}
