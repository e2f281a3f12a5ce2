// The fitting-core benchmark (run by `moelab bench`): the full 4,500-start Chinchilla
// grid on the 240 points of Epoch's CSV (docs/references.md#chinchilla-approach-3), as Hoffmann et al. / Epoch fit it. SciPy's
// L-BFGS-B needs about 23 minutes single-threaded for the same grid.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../errors.ts';
import { PROJECT_ROOT } from '../util/provenance.ts';
import { numericColumn, readCsv } from './data.ts';
import { fitParametric } from './parametric.ts';

export const CHINCHILLA_CSV = join(PROJECT_ROOT, 'data', 'reference', 'chinchilla_svg_extracted_data.csv');

/** The 240 points: D = C/(6N), the 5 highest losses dropped (Epoch's rule). */
export function chinchillaPoints(path = CHINCHILLA_CSV): { N: number; D: number; C: number; loss: number }[] {
  if (!existsSync(path)) throw new DataError(`${path} not found: the Chinchilla benchmark reads the reference data vendored in data/reference/ (restore it with git checkout data/reference).`);
  const t = readCsv(path);
  const N = numericColumn(t, 'Model Size', 'Model Size');
  const C = numericColumn(t, 'Training FLOP', 'Training FLOP');
  const loss = numericColumn(t, 'loss', 'loss');
  const threshold = [...loss].sort((a, b) => b - a)[4];
  return N.map((n, i) => ({ N: n, D: C[i] / (6 * n), C: C[i], loss: loss[i] })).filter((p) => p.loss < threshold);
}

export interface ChinchillaBench {
  /** Wall-clock seconds of the whole grid. */
  seconds: number;
  /** CPU seconds of this process over the grid (the fit is single-threaded; wall > CPU on a busy machine). */
  cpuSeconds: number;
  starts: number;
  points: number;
  /** Best objective and the starts that reached it (evidence the grid converged). */
  objective: number;
  startsAgreeing: number;
  params: Record<string, number>;
}

export function benchChinchillaGrid(path = CHINCHILLA_CSV): ChinchillaBench {
  const pts = chinchillaPoints(path);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const fit = fitParametric(pts, { grid: 'chinchilla', holdout: 'none', bootstrap: 0 });
  const cpu = process.cpuUsage(cpu0);
  const seconds = (performance.now() - t0) / 1000;
  return {
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    starts: fit.diagnostics.starts,
    points: pts.length,
    objective: fit.diagnostics.objective,
    startsAgreeing: fit.diagnostics.startsAgreeing,
    params: Object.fromEntries(Object.entries(fit.params).map(([k, v]) => [k, v.value])),
  };
}
