// Coverage of calibration trials for the light calibration tests: the fraction whose interval
// (optionally shrunk about its midpoint by `shrink`) contains the truth — or another value, to
// check that a wrong truth is seen to fail. A trial without an interval is a miss.
import type { CalibrationTrial } from '../../../src/analysis/calibration/types.ts';

export const covered = (ts: readonly CalibrationTrial[], truth = (t: CalibrationTrial) => t.truth, shrink = 1): number =>
  ts.filter((t) => {
    if (!t.ci) return false;
    const mid = (t.ci[0] + t.ci[1]) / 2;
    const half = ((t.ci[1] - t.ci[0]) / 2) * shrink;
    return mid - half <= truth(t) && truth(t) <= mid + half;
  }).length / ts.length;
