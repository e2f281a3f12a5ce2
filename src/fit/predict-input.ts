// Rows to predict at (`moelab fit … --predict FILE.csv`): read with the same column names as the
// fit's own input, one row per prediction. Which columns a kind needs: parametric N and D (or C with
// --tokens-from-flops), compute N and D, isoflop the budget (else C), deepseek the regressor
// (budget, else C) and --x2-col when the laws are two-variable, custom every input of the
// expression (by name, through --var, or N/D/C columns). Pure: the table comes in parsed.
import { basename } from 'node:path';
import { ConfigError } from '../errors.ts';
import { hasColumn, numericColumn, stringColumn, type Table } from './data.ts';
import type { FitKind } from './record.ts';

export interface PredictRow {
  label: string;
  N?: number;
  D?: number;
  C?: number;
  /** deepseek regressor and second regressor. */
  x?: number;
  x2?: number;
  /** custom: inputs by expression variable. */
  vars: Record<string, number>;
}

export interface PredictInput {
  source: string;
  rows: PredictRow[];
}

export interface PredictColumns {
  N: string;
  D: string;
  C: string;
  budget: string;
  label?: string;
  x2?: string;
  vars?: Record<string, string>;
}

export function predictInputFromTable(t: Table, kind: FitKind, cols: PredictColumns, tokensFromFlops?: number): PredictInput {
  const col = (name: string, flag: string) => numericColumn(t, name, `--predict ${flag}`);
  const n = t.rows.length;
  const labels = cols.label && hasColumn(t, cols.label) ? stringColumn(t, cols.label, '--label-col') : t.rows.map((_, i) => `${basename(t.source)}:${t.lines?.[i] ?? i + 2}`);
  const rows: PredictRow[] = labels.map((label) => ({ label, vars: {} }));
  const fill = (key: 'N' | 'D' | 'C' | 'x' | 'x2', values: number[]) => values.forEach((v, i) => (rows[i][key] = v));
  switch (kind) {
    case 'parametric':
    case 'compute': {
      const N = col(cols.N, '(--n-col)');
      fill('N', N);
      if (kind === 'parametric' && tokensFromFlops !== undefined && !hasColumn(t, cols.D)) {
        const C = col(cols.C, '(--c-col)');
        fill('D', C.map((c, i) => c / (tokensFromFlops * N[i])));
      } else fill('D', col(cols.D, '(--d-col)'));
      break;
    }
    case 'isoflop':
      fill('C', hasColumn(t, cols.budget) ? col(cols.budget, '(--budget-col)') : col(cols.C, '(--c-col)'));
      break;
    case 'deepseek':
      fill('x', hasColumn(t, cols.budget) ? col(cols.budget, '(--budget-col)') : col(cols.C, '(--c-col)'));
      if (cols.x2) fill('x2', col(cols.x2, '(--x2-col)'));
      break;
    case 'custom': {
      const named: Record<string, string> = { ...(cols.vars ?? {}) };
      for (const c of t.columns) if (/^[A-Za-z_][A-Za-z_0-9]*$/.test(c) && !(c in named)) named[c] = c;
      for (const [role, name] of [['N', cols.N], ['D', cols.D], ['C', cols.C]] as const) if (hasColumn(t, name)) named[role] = name;
      for (const [v, name] of Object.entries(named)) {
        if (!hasColumn(t, name)) continue;
        const values = col(name, `--var ${v}`);
        values.forEach((x, i) => (rows[i].vars[v] = x));
      }
      break;
    }
    default:
      throw new ConfigError('--predict', t.source, `Prediction rows apply to parametric, isoflop, compute, deepseek and custom fits (schedule --predict takes curves; ${kind} has no per-row law).`, `not supported for ${kind}`);
  }
  if (n === 0) throw new ConfigError('--predict', t.source, 'Give a CSV with a header and at least one row to predict.', 'no rows');
  return { source: t.source, rows };
}
