// MoE routing decisions as pure functions on typed arrays: top-k choice, expert capacity, the
// overflow policy (drop / recycle / none) and the dispatch layout the tensor code uses. The router
// probabilities come from the device once per layer; everything here runs on the host, so it is
// exact, deterministic given the RNG, and testable on hand-worked cases.
//
// Shapes: probs [numTokens, numExperts] row-major; assignments are indexed (token, j) with
// j < topK the rank of the choice, stored row-major as [numTokens, topK].
import { shuffleInPlace, type Rng } from '../util/rng.ts';

export type OverflowPolicy = 'drop' | 'recycle' | 'none';

/**
 * Expert capacity = floor(max(k, k·T/E) · capacityFactor) assignments per expert for a group of
 * T tokens (docs/references.md#capacity, later Tencent code). capacityFactor = Infinity gives Infinity.
 */
export function expertCapacity(numTokens: number, numExperts: number, topK: number, capacityFactor: number): number {
  if (!Number.isFinite(capacityFactor)) return Infinity;
  return Math.floor(Math.max(topK, (topK * numTokens) / numExperts) * capacityFactor);
}

export interface RoutingOptions {
  topK: number;
  /** Assignments per expert (expertCapacity); ignored under overflowPolicy "none". */
  capacity: number;
  overflowPolicy: OverflowPolicy;
  /** Drives recycle routing's random reassignment; required when a token is recycled. */
  rng?: Rng;
}

export interface RoutingPlan {
  numTokens: number;
  numExperts: number;
  topK: number;
  /** Capacity actually applied (Infinity under "none"). */
  capacity: number;
  /** The router's original top-k experts per token, descending probability: [numTokens, topK]. */
  choices: Int32Array;
  /** Final expert per assignment after the overflow policy, −1 when dropped: [numTokens, topK]. */
  assigned: Int32Array;
  /** 1 where recycle routing reassigned the assignment: [numTokens, topK]. */
  recycled: Uint8Array;
  /** Tokens per expert by the original top-k choice (before capacity). */
  tokensPerExpert: number[];
  /** Assignments each expert finally processes (≤ capacity). */
  expertLoad: number[];
  /** Dropped (not recycled) assignments / (numTokens · topK). */
  droppedTokenFraction: number;
  /** Recycled assignments / (numTokens · topK). */
  recycledTokenFraction: number;
}

/** Top-k expert indices of one token, descending probability; ties go to the lower index. */
function topKOf(probs: ArrayLike<number>, offset: number, numExperts: number, k: number, out: Int32Array, outOffset: number): void {
  for (let j = 0; j < k; j++) {
    let best = -1;
    let bestP = -Infinity;
    for (let e = 0; e < numExperts; e++) {
      const p = probs[offset + e];
      if (p > bestP) {
        let taken = false;
        for (let i = 0; i < j; i++) if (out[outOffset + i] === e) taken = true;
        if (!taken) {
          best = e;
          bestP = p;
        }
      }
    }
    out[outOffset + j] = best;
  }
}

/**
 * Route tokens (docs/references.md#recycle-routing):
 * 1. each token's top-k experts by router probability;
 * 2. capacity: assignments are served first-come in (rank j, token index) order, so every token's
 *    first choice is served before any second choice; beyond `capacity` an assignment overflows;
 * 3. overflow policy: "drop" loses it; "recycle" lists each expert's free slots
 *    (capacity − load, expert e repeated free[e] times), shuffles the list uniformly with `rng`, and
 *    gives the overflowed assignments, in (j, token) order, the next free slot whose expert the
 *    token does not already hold; "none" ignores capacity. For top-1 this is exactly the released
 *    top1gating(random_routing_dropped_token=True): a dropped token lands on expert e with
 *    probability ∝ free[e]; no token is lost while free capacity exists.
 */
export function routeTokens(
  probs: ArrayLike<number>,
  numTokens: number,
  numExperts: number,
  options: RoutingOptions,
): RoutingPlan {
  const { topK: k, overflowPolicy } = options;
  const capacity = overflowPolicy === 'none' ? Infinity : options.capacity;
  const choices = new Int32Array(numTokens * k);
  for (let t = 0; t < numTokens; t++) topKOf(probs, t * numExperts, numExperts, k, choices, t * k);

  const tokensPerExpert = new Array<number>(numExperts).fill(0);
  for (let i = 0; i < choices.length; i++) tokensPerExpert[choices[i]]++;

  const assigned = new Int32Array(numTokens * k).fill(-1);
  const recycled = new Uint8Array(numTokens * k);
  const expertLoad = new Array<number>(numExperts).fill(0);
  const overflow: number[] = []; // assignment indices t·k + j, in (j, t) order
  for (let j = 0; j < k; j++) {
    for (let t = 0; t < numTokens; t++) {
      const a = t * k + j;
      const e = choices[a];
      if (expertLoad[e] < capacity) {
        assigned[a] = e;
        expertLoad[e]++;
      } else {
        overflow.push(a);
      }
    }
  }

  let numRecycled = 0;
  if (overflowPolicy === 'recycle' && overflow.length > 0) {
    if (!options.rng) {
      throw new Error('routeTokens: overflowPolicy "recycle" dropped tokens but no rng was given; pass options.rng.');
    }
    const slots: number[] = [];
    for (let e = 0; e < numExperts; e++) for (let i = expertLoad[e]; i < capacity; i++) slots.push(e);
    shuffleInPlace(slots, options.rng);
    const used = new Uint8Array(slots.length);
    let first = 0; // slots before `first` are all used
    for (const a of overflow) {
      const t = Math.floor(a / k);
      while (first < slots.length && used[first]) first++;
      for (let s = first; s < slots.length; s++) {
        if (used[s]) continue;
        const e = slots[s];
        let held = false;
        for (let j = 0; j < k; j++) if (assigned[t * k + j] === e) held = true;
        if (held) continue;
        used[s] = 1;
        assigned[a] = e;
        recycled[a] = 1;
        expertLoad[e]++;
        numRecycled++;
        break;
      }
    }
  }

  const total = numTokens * k;
  const numDropped = overflow.length - numRecycled;
  return {
    numTokens,
    numExperts,
    topK: k,
    capacity,
    choices,
    assigned,
    recycled,
    tokensPerExpert,
    expertLoad,
    droppedTokenFraction: total > 0 ? numDropped / total : 0,
    recycledTokenFraction: total > 0 ? numRecycled / total : 0,
  };
}

export interface DispatchLayout {
  /** Rows R = assignments that reach an expert (not dropped). */
  numRows: number;
  /** Token of each row, rows grouped by expert (expert 0's rows first), token order inside: [R]. */
  rowToken: Int32Array;
  /** Row counts per expert (sum = R); expert e's rows start at the sum of the counts before it. */
  expertCounts: number[];
  /** Flat index t·numExperts + e of each row's router probability: [R]. */
  gateIndex: Int32Array;
}

/** Counting sort of the kept assignments by expert: the permutation the tensor code gathers by. */
export function buildDispatch(plan: RoutingPlan): DispatchLayout {
  const { numTokens, numExperts, topK: k, assigned } = plan;
  const expertCounts = new Array<number>(numExperts).fill(0);
  for (let i = 0; i < assigned.length; i++) if (assigned[i] >= 0) expertCounts[assigned[i]]++;
  const start = new Array<number>(numExperts).fill(0);
  for (let e = 1; e < numExperts; e++) start[e] = start[e - 1] + expertCounts[e - 1];
  const numRows = expertCounts.reduce((s, c) => s + c, 0);
  const rowToken = new Int32Array(numRows);
  const gateIndex = new Int32Array(numRows);
  for (let t = 0; t < numTokens; t++) {
    for (let j = 0; j < k; j++) {
      const e = assigned[t * k + j];
      if (e < 0) continue;
      const r = start[e]++;
      rowToken[r] = t;
      gateIndex[r] = t * numExperts + e;
    }
  }
  return { numRows, rowToken, expertCounts, gateIndex };
}

/** [numTokens, numExperts] 0/1 mask of the final assignment (the dense reference's combine mask). */
export function assignmentMask(plan: RoutingPlan): Float32Array {
  const mask = new Float32Array(plan.numTokens * plan.numExperts);
  for (let a = 0; a < plan.assigned.length; a++) {
    const e = plan.assigned[a];
    if (e >= 0) mask[Math.floor(a / plan.topK) * plan.numExperts + e] = 1;
  }
  return mask;
}

/** [numTokens, numExperts] 0/1 mask of the original top-k choice (top-k renormalisation set). */
export function choiceMask(plan: RoutingPlan): Float32Array {
  const mask = new Float32Array(plan.numTokens * plan.numExperts);
  for (let a = 0; a < plan.choices.length; a++) mask[Math.floor(a / plan.topK) * plan.numExperts + plan.choices[a]] = 1;
  return mask;
}

/**
 * Combine weight of each assignment as plain numbers (for tests and diagnostics): top-1 uses the
 * raw softmax probability of the (possibly new) expert; top-k > 1 divides by the sum of the
 * token's original top-k probabilities. Dropped assignments weigh 0. [numTokens, topK].
 */
export function combineWeights(probs: ArrayLike<number>, plan: RoutingPlan): Float64Array {
  const { numTokens, numExperts, topK: k } = plan;
  const w = new Float64Array(numTokens * k);
  for (let t = 0; t < numTokens; t++) {
    let denom = 1;
    if (k > 1) {
      denom = 0;
      for (let j = 0; j < k; j++) denom += probs[t * numExperts + plan.choices[t * k + j]];
    }
    for (let j = 0; j < k; j++) {
      const e = plan.assigned[t * k + j];
      w[t * k + j] = e < 0 ? 0 : probs[t * numExperts + e] / denom;
    }
  }
  return w;
}
