// Huber loss (Huber 1964), the robust objective of the Chinchilla fit (Hoffmann et al. 2022,
// App. D.2; docs/references.md#chinchilla-approach-3): quadratic for |r| ≤ δ, linear beyond, continuous first derivative.
//   Huber_δ(r) = r²/2            |r| ≤ δ
//              = δ·(|r| − δ/2)   otherwise
// Objectives built on it are SUMMED over points, never averaged: the mean shrinks the gradient by
// the point count and makes L-BFGS stop early (Besiroglu et al. 2024 v2; marin PR #749).

export function huber(r: number, delta: number): number {
  const a = Math.abs(r);
  return a <= delta ? 0.5 * r * r : delta * (a - 0.5 * delta);
}

/** dHuber/dr: r inside the quadratic zone, ±δ outside. */
export function huberDerivative(r: number, delta: number): number {
  return r > delta ? delta : r < -delta ? -delta : r;
}

/** Σ_i Huber_δ(r_i). */
export function huberSum(residuals: ArrayLike<number>, delta: number): number {
  let s = 0;
  for (let i = 0; i < residuals.length; i++) s += huber(residuals[i], delta);
  return s;
}

/** Hoffmann et al.'s threshold on log-loss residuals. */
export const CHINCHILLA_HUBER_DELTA = 1e-3;
