// The Hunyuan-Large numbers a reproduction is compared with (docs/references.md), each with the
// reliability docs/references.md gives its source. Pure data; the comparison logic is in compare.ts.

export type Reliability = 'primary' | 'secondary' | 'UNCONFIRMED' | 'UNCONFIRMED, low reliability' | 'not reported';

export interface PaperValue {
  /** The paper's value as text (a number, a range, or a description). */
  text: string;
  /** Numeric value when there is one (for the ratio column). */
  value?: number;
  reliability: Reliability;
  /** Where docs/references.md says it comes from. */
  source: string;
}

export const PAPER = {
  nOptExponent: {
    text: '0.5305 (N_opt = 5.9e-3·C^0.5305)',
    value: 0.5305,
    reliability: 'UNCONFIRMED, low reliability',
    source: 'docs/references.md#power-laws (one low-reliability source, internally consistent: see its check values)',
  },
  dOptExponent: {
    text: '0.50 (D_opt = 3.2·C^0.50)',
    value: 0.5,
    reliability: 'UNCONFIRMED, low reliability',
    source: 'docs/references.md#power-laws (S5 only)',
  },
  tokensPerParam: {
    text: '≈ 97–153 tokens per activated parameter (1e18–3e24 FLOPs)',
    value: 125,
    reliability: 'UNCONFIRMED',
    source: 'docs/references.md#power-laws (arithmetic on the fitted laws); Chinchilla ≈ 20',
  },
  computeA: {
    text: '9.59 (C ≈ 9.59·N·D + 2.3e8·D)',
    value: 9.59,
    reliability: 'UNCONFIRMED',
    source: 'docs/references.md#compute-formula (S2 quotes the formula image; S3, S5 agree)',
  },
  computeB: {
    text: '2.3e8',
    value: 2.3e8,
    reliability: 'UNCONFIRMED',
    source: 'docs/references.md#compute-formula',
  },
  epsMax: { text: 'not reported', reliability: 'not reported', source: 'docs/references.md#surge' },
  bNoise: { text: 'not reported', reliability: 'not reported', source: 'docs/references.md#expert-lr' },
  expertLrRatio: {
    text: '≈ 0.31 (lr_specialized / lr_shared, n = 16 experts, top-1)',
    value: 0.31,
    reliability: 'UNCONFIRMED',
    source: 'docs/references.md#expert-lr (S3, S5); implies B ≈ 0.26·B_noise',
  },
  schedule: {
    text: 'warmup → gradual decay → anneal over the last 5% of tokens to 0.1× peak (used, not ranked)',
    reliability: 'UNCONFIRMED',
    source: 'docs/references.md#lr-schedule (S1, S3, S4)',
  },
} as const satisfies Record<string, PaperValue>;
