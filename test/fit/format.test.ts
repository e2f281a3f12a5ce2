// The terminal table of a fit: parameters with intervals, diagnostics, kind-specific rows, held-out.
import { describe, expect, it } from 'vitest';
import { fitComputeFormula, formatFit } from '../../src/fit/index.ts';

describe('formatFit', () => {
  it('prints parameters, the formula comparison and the held-out rows', () => {
    const rows = [1e7, 3e7, 1e8, 3e8].flatMap((N) => [1e9, 1e10].map((D) => ({ N, D, C: 9.59 * N * D + 2.3e8 * D, label: `N${N}-D${D}` })));
    const text = formatFit(fitComputeFormula(rows, { bootstrap: 20, seed: 1 }), 'runs.csv');
    expect(text).toMatch(/^compute fit\s+C = a \* N \* D \+ b \* D/);
    expect(text).toMatch(/data: 8 rows used of 8 from runs\.csv/);
    expect(text).toMatch(/\na\s+9\.59\s+\[9\.59, 9\.59\]/);
    expect(text).toMatch(/closed-form least squares \(R² /);
    expect(text).toMatch(/fitted\s+9\.59\s+2\.300e\+8\s+0\.00%/);
    expect(text).toMatch(/held out\s+actual\s+predicted\s+95% CI\s+rel\. error/);
    expect(text).toMatch(/C of N300000000-D1000000000 \(N=3\.00e8\)/);
  });
});

describe('formatFit: an unidentified record', () => {
  const rows = [1e7, 3e7, 1e8, 3e8].flatMap((N) => [1e9, 1e10].map((D) => ({ N, D, C: 9.59 * N * D + 2.3e8 * D, label: `N${N}-D${D}` })));
  const base = fitComputeFormula(rows, { bootstrap: 0 });
  const unidentified = { identified: false, problems: ['B·β at its bound'] };

  it('names --allow-unidentified for a kind that refuses degenerate data without it', () => {
    const text = formatFit({ ...base, kind: 'parametric', identifiability: unidentified } as unknown as Parameters<typeof formatFit>[0], 'runs.csv');
    expect(text).toMatch(/NOT IDENTIFIED \(--allow-unidentified\): B·β at its bound/);
  });

  it('does not name the flag for the schedule fit, which always writes its record and marks it', () => {
    const text = formatFit({ ...base, kind: 'schedule', curves: [], identifiability: unidentified } as unknown as Parameters<typeof formatFit>[0], 'runs.csv');
    expect(text).toMatch(/NOT IDENTIFIED: B·β at its bound/);
    expect(text).not.toMatch(/--allow-unidentified/);
  });
});
