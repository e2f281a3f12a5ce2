#!/usr/bin/env python3
"""SciPy reference timing for the Chinchilla Approach-3 grid (docs/BENCHMARKS.md, issue #5).

Same objective as moelab's `benchChinchillaGrid()` (src/fit/bench.ts): the sum over Epoch's 240
points (D = C/(6N), 5 highest losses dropped) of Huber_1e-3(LSE(a - alpha ln N, b - beta ln D, e)
- ln L), minimised by scipy.optimize.minimize(method="L-BFGS-B") from grid starts. Times a seeded
random subset of the 4,500 starts and extrapolates to the full grid, with the gradient either by
SciPy's finite differences (jac=None, as in Epoch's replication notebook) or analytic.

    python3 scripts/bench-fit-scipy.py [--starts 150] [--seed 0]
"""
import argparse
import csv
import itertools
import os
import time

import numpy as np
from scipy.optimize import minimize
from scipy.special import huber, logsumexp

HERE = os.path.dirname(os.path.abspath(__file__))
CSV = os.path.join(HERE, "..", "..", "shared", "data", "chinchilla_svg_extracted_data.csv")


def load():
    with open(CSV) as f:
        rows = list(csv.DictReader(f))
    n = np.array([float(r["Model Size"]) for r in rows])
    c = np.array([float(r["Training FLOP"]) for r in rows])
    loss = np.array([float(r["loss"]) for r in rows])
    keep = loss < np.sort(loss)[::-1][4]
    return np.log(n[keep]), np.log(c[keep] / (6 * n[keep])), np.log(loss[keep])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--starts", type=int, default=150)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    ln_n, ln_d, ln_l = load()
    delta = 1e-3

    def objective(x):  # x = (e, a, b, alpha, beta), the order moelab uses
        e, a, b, alpha, beta = x
        pred = logsumexp([a - alpha * ln_n, b - beta * ln_d, np.full_like(ln_n, e)], axis=0)
        return np.sum(huber(delta, pred - ln_l))

    def gradient(x):
        e, a, b, alpha, beta = x
        t = np.stack([a - alpha * ln_n, b - beta * ln_d, np.full_like(ln_n, e)])
        pred = logsumexp(t, axis=0)
        w = np.exp(t - pred)
        dr = np.clip(pred - ln_l, -delta, delta)
        return np.array([np.sum(dr * w[2]), np.sum(dr * w[0]), np.sum(dr * w[1]),
                         -np.sum(dr * w[0] * ln_n), -np.sum(dr * w[1] * ln_d)])

    grid = list(itertools.product([-1, -0.5, 0, 0.5, 1], range(0, 30, 5), range(0, 30, 5),
                                  [0, 0.5, 1, 1.5, 2], [0, 0.5, 1, 1.5, 2]))
    rng = np.random.default_rng(args.seed)
    subset = [grid[i] for i in rng.choice(len(grid), size=args.starts, replace=False)]
    print(f"{len(ln_n)} points, {len(grid)} grid starts, timing {len(subset)} of them")
    for label, jac in [("finite-difference gradient (jac=None)", None), ("analytic gradient", gradient)]:
        t0 = time.process_time()
        best = np.inf
        for x0 in subset:
            r = minimize(objective, np.array(x0, dtype=float), jac=jac, method="L-BFGS-B")
            best = min(best, r.fun)
        cpu = time.process_time() - t0
        print(f"{label}: {cpu:.2f} s CPU for {len(subset)} starts -> {cpu / len(subset) * len(grid):.0f} s "
              f"for the grid; best objective in subset {best:.6e}")


if __name__ == "__main__":
    main()
