// Linear least squares and the small closed-form fits built on it: straight lines, parabolas and
// power laws in log space. QR via ml-matrix (never the normal equations: the isoFLOP parabola in
// ln N has columns 1, u, u² with u ≈ 20, which squares a condition number that is already large).
import { Matrix, QrDecomposition } from 'ml-matrix';
import { DataError } from '../errors.ts';

export interface LeastSquaresResult {
  coef: number[];
  /** Σ w_i·(y_i − ŷ_i)². */
  rss: number;
  /** Coefficient of determination (unweighted definition on the weighted fit). */
  r2: number;
}

/** min_β Σ_i w_i·(y_i − X_i·β)² for a design matrix X (rows × columns). */
export function leastSquares(X: readonly (readonly number[])[], y: readonly number[], weights?: readonly number[]): LeastSquaresResult {
  const m = y.length;
  const k = X[0]?.length ?? 0;
  if (m < k) throw new DataError(`least squares needs at least ${k} points for ${k} coefficients, got ${m}`);
  const A = new Matrix(m, k);
  const b = new Matrix(m, 1);
  for (let i = 0; i < m; i++) {
    const sw = weights ? Math.sqrt(weights[i]) : 1;
    for (let j = 0; j < k; j++) A.set(i, j, sw * X[i][j]);
    b.set(i, 0, sw * y[i]);
  }
  const qr = new QrDecomposition(A);
  // Numerical rank from R's diagonal (ml-matrix's isFullRank only tests for exact zeros).
  const R = qr.upperTriangularMatrix;
  let maxDiag = 0;
  for (let j = 0; j < k; j++) maxDiag = Math.max(maxDiag, Math.abs(R.get(j, j)));
  for (let j = 0; j < k; j++) {
    if (!(Math.abs(R.get(j, j)) > 1e-12 * maxDiag)) {
      throw new DataError('least squares: the design is rank-deficient (repeated or collinear inputs); give more distinct input values');
    }
  }
  const coef = qr.solve(b).to1DArray();
  let rss = 0;
  let mean = 0;
  for (let i = 0; i < m; i++) mean += y[i] / m;
  let tss = 0;
  for (let i = 0; i < m; i++) {
    let yhat = 0;
    for (let j = 0; j < k; j++) yhat += X[i][j] * coef[j];
    rss += (weights ? weights[i] : 1) * (y[i] - yhat) ** 2;
    tss += (y[i] - mean) ** 2;
  }
  return { coef, rss, r2: tss > 0 ? 1 - rss / tss : 1 };
}

/** y = intercept + slope·x. */
export function fitLine(x: readonly number[], y: readonly number[], weights?: readonly number[]): { intercept: number; slope: number; r2: number } {
  const r = leastSquares(x.map((v) => [1, v]), y, weights);
  return { intercept: r.coef[0], slope: r.coef[1], r2: r.r2 };
}

/** A parabola y = p0 + p1·u + p2·u² and its vertex. */
export interface Parabola {
  p0: number;
  p1: number;
  p2: number;
  /** u at the vertex (−p1/(2·p2)); NaN when p2 = 0. */
  vertexU: number;
  /** y at the vertex. */
  vertexY: number;
  r2: number;
  /** Residual sum of squares. */
  rss: number;
}

/** Least-squares parabola; u is centred internally for conditioning, coefficients are in u. */
export function fitParabola(u: readonly number[], y: readonly number[]): Parabola {
  const c = u.reduce((s, v) => s + v, 0) / u.length;
  const r = leastSquares(u.map((v) => [1, v - c, (v - c) ** 2]), y);
  const [q0, q1, q2] = r.coef;
  // Expand q0 + q1·(u − c) + q2·(u − c)² into p0 + p1·u + p2·u².
  const p2 = q2;
  const p1 = q1 - 2 * q2 * c;
  const p0 = q0 - q1 * c + q2 * c * c;
  const vertexCentred = -q1 / (2 * q2);
  return {
    p0,
    p1,
    p2,
    vertexU: vertexCentred + c,
    vertexY: q0 + q1 * vertexCentred + q2 * vertexCentred ** 2,
    r2: r.r2,
    rss: r.rss,
  };
}

/**
 * Leverages of the least-squares parabola in u (fitParabola's design: columns 1, u − ū, (u − ū)²):
 * the diagonal of its hat matrix, by QR (h_i = ‖Q_i‖²). They sum to 3; a point the parabola bends
 * to has h_i near 1, so its residual understates the noise (docs/references.md#bootstrap-intervals).
 */
export function parabolaLeverages(u: readonly number[]): Float64Array {
  const m = u.length;
  if (m < 3 || new Set(u).size < 3) throw new DataError(`parabola leverages need ≥ 3 distinct inputs, got ${new Set(u).size} of ${m}`);
  const c = u.reduce((s, v) => s + v, 0) / m;
  const A = new Matrix(m, 3);
  for (let i = 0; i < m; i++) {
    A.set(i, 0, 1);
    A.set(i, 1, u[i] - c);
    A.set(i, 2, (u[i] - c) ** 2);
  }
  const Q = new QrDecomposition(A).orthogonalMatrix;
  return Float64Array.from({ length: m }, (_, i) => Q.get(i, 0) ** 2 + Q.get(i, 1) ** 2 + Q.get(i, 2) ** 2);
}

export function evalParabola(p: Parabola, u: number): number {
  return p.p0 + p.p1 * u + p.p2 * u * u;
}

/** y = k·x^a by least squares on ln y = ln k + a·ln x. */
export interface PowerLaw {
  k: number;
  a: number;
  r2: number;
}

export function fitPowerLaw(x: readonly number[], y: readonly number[]): PowerLaw {
  for (let i = 0; i < x.length; i++) {
    if (!(x[i] > 0) || !(y[i] > 0)) throw new DataError(`power law needs positive x and y; point ${i} is (${x[i]}, ${y[i]})`);
  }
  if (new Set(x).size < 2) throw new DataError(`power law needs at least 2 distinct x values, got ${new Set(x).size}`);
  const line = fitLine(x.map(Math.log), y.map(Math.log));
  return { k: Math.exp(line.intercept), a: line.slope, r2: line.r2 };
}

export function evalPowerLaw(p: PowerLaw, x: number): number {
  return p.k * Math.pow(x, p.a);
}

/**
 * min_β Σ_i w_i·(y_i − X_i·β)² subject to β ≥ 0 (Lawson & Hanson's active-set method, "Solving
 * Least Squares Problems" ch. 23): columns enter the passive set by the largest gradient and
 * leave when their coefficient would turn negative; each subproblem is leastSquares (QR) on the
 * passive columns. Columns are scaled to unit length first, so tolerances do not depend on units.
 */
export function nonNegativeLeastSquares(X: readonly (readonly number[])[], y: readonly number[], weights?: readonly number[]): LeastSquaresResult {
  const m = y.length;
  const k = X[0]?.length ?? 0;
  if (m < k) throw new DataError(`least squares needs at least ${k} points for ${k} coefficients, got ${m}`);
  const sw = (i: number) => (weights ? Math.sqrt(weights[i]) : 1);
  const scale = Array.from({ length: k }, (_, j) => Math.sqrt(X.reduce((s, row, i) => s + (sw(i) * row[j]) ** 2, 0)) || 1);
  const A = X.map((row, i) => row.map((v, j) => (sw(i) * v) / scale[j]));
  const b = y.map((v, i) => sw(i) * v);
  const residual = (x: number[]) => b.map((bi, i) => bi - A[i].reduce((s, a, j) => s + a * x[j], 0));
  const gradient = (x: number[]) => {
    const r = residual(x);
    return Array.from({ length: k }, (_, j) => A.reduce((s, row, i) => s + row[j] * r[i], 0));
  };
  const solveOn = (cols: number[]) => {
    const s = new Array<number>(k).fill(0);
    if (cols.length === 0) return s;
    const coef = leastSquares(A.map((row) => cols.map((j) => row[j])), b).coef;
    cols.forEach((j, c) => (s[j] = coef[c]));
    return s;
  };
  const tol = 1e-10 * Math.max(1, Math.sqrt(b.reduce((s, v) => s + v * v, 0)));
  let x = new Array<number>(k).fill(0);
  const passive = new Set<number>();
  for (let outer = 0; outer < 3 * k; outer++) {
    const w = gradient(x);
    let t = -1;
    for (let j = 0; j < k; j++) if (!passive.has(j) && w[j] > tol && (t < 0 || w[j] > w[t])) t = j;
    if (t < 0) break;
    passive.add(t);
    for (let inner = 0; inner < 3 * k; inner++) {
      const cols = [...passive].sort((p, q) => p - q);
      const s = solveOn(cols);
      if (cols.every((j) => s[j] > 0)) {
        x = s;
        break;
      }
      let alpha = 1;
      for (const j of cols) if (s[j] <= 0) alpha = Math.min(alpha, x[j] / (x[j] - s[j]));
      x = x.map((xj, j) => xj + alpha * (s[j] - xj));
      for (const j of cols) {
        if (x[j] <= tol) {
          x[j] = 0;
          passive.delete(j);
        }
      }
    }
  }
  const coef = x.map((v, j) => v / scale[j]);
  let rss = 0;
  let mean = 0;
  for (let i = 0; i < m; i++) mean += y[i] / m;
  let tss = 0;
  for (let i = 0; i < m; i++) {
    const yhat = X[i].reduce((s, v, j) => s + v * coef[j], 0);
    rss += (weights ? weights[i] : 1) * (y[i] - yhat) ** 2;
    tss += (y[i] - mean) ** 2;
  }
  return { coef, rss, r2: tss > 0 ? 1 - rss / tss : 1 };
}
