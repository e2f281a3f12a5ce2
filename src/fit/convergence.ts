// Did a fit converge? One answer for every kind, with the reasons, for the record and the exit code
// of `moelab fit` (a fit that did not converge exits UNCONVERGED_EXIT_CODE unless
// --allow-unconverged). Closed-form fits always converge; iterative ones report their optimiser's
// verdict (an iteration cap reached is "not converged"); sub-fits (held-out refit, a saturating
// L_min law) count too.
import type { FitDiagnostics } from './fit-form.ts';
import type { FitResultBase } from './record.ts';

/** Exit status of `moelab fit` when the fit did not converge (and --allow-unconverged was not given). */
export const UNCONVERGED_EXIT_CODE = 3;

export interface FitConvergence {
  converged: boolean;
  /** Why not (empty when converged). */
  reasons: string[];
}

const iterative = (d: FitResultBase['diagnostics']): d is FitDiagnostics => d.optimizer !== 'least-squares';

export function fitConvergence(r: FitResultBase & { heldOutDiagnostics?: FitDiagnostics | null; lminConvergence?: { converged: boolean; reason: string; gradNorm: number } | null }): FitConvergence {
  const reasons: string[] = [];
  const d = r.diagnostics;
  if (iterative(d) && !d.converged) {
    reasons.push(`main fit: ${d.optimizer} stopped by "${d.reason}" after ${d.iterations} iterations with ‖grad‖∞ ${d.gradNorm.toExponential(2)}`);
  }
  const h = r.heldOutDiagnostics;
  if (h && !h.converged) reasons.push(`held-out refit: ${h.optimizer} stopped by "${h.reason}" after ${h.iterations} iterations`);
  const l = r.lminConvergence;
  if (l && !l.converged) reasons.push(`saturating L_min law: stopped by "${l.reason}" (‖grad‖∞ ${l.gradNorm.toExponential(2)})`);
  return { converged: reasons.length === 0, reasons };
}
