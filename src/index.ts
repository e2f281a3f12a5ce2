// moelab's public API: `index.ts` is the contract (re-exports only); anything not reachable from
// here is internal. Names are grouped in namespaces, one per layer, in the style of TensorFlow.js's
// index (`tf.io`, `tf.train`, …), so two layers can never shadow each other's names:
//
//   io        results/ layout, loadSweep and run tags, JSON helpers          (src/api/io.ts)
//   model     model configs, parameter and FLOP accounting, family sizing    (src/api/model.ts)
//   train     run configs, LR schedules, the expert-LR rule                 (src/api/train.ts)
//   sweep     experiment files, plans, runners, studies                      (src/api/sweep.ts)
//   fit       scaling-law and LR/batch/schedule fits, pure                   (src/fit/index.ts)
//   analysis  which fits a sweep supports, running them, the defaults        (src/analysis/index.ts)
//   report    run accessors, tables, figures, the report writer              (src/api/report.ts)
//
// Notebooks import by the package's own name: `import { io, report } from "moelab"` (docs/notebooks.md).
import * as analysis from './analysis/index.ts';
import * as io from './api/io.ts';
import * as model from './api/model.ts';
import * as report from './api/report.ts';
import * as sweep from './api/sweep.ts';
import * as train from './api/train.ts';
import * as fit from './fit/index.ts';

export { analysis, fit, io, model, report, sweep, train };

// The few names every user needs first.
export { ConfigError, DataError } from './errors.ts';
export { PROJECT_ROOT, MOELAB_VERSION } from './util/provenance.ts';
// Experiment files: `import { defineSweep } from 'moelab'` (docs/sweeps.md).
export { defineSweep } from './sweep/define.ts';
