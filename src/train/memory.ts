// Pre-flight memory estimate (pure: no tensors): how much memory a training run will hold, from
// its config alone, so a config that cannot fit is refused before anything is written — instead of
// writing config.json and then growing for minutes (a 48-billion-parameter `model.dFf` typo).
//
// What a training step holds, in float32 (4 bytes):
//   parameters P, their gradients P, AdamW's m and v 2P, and the checkpoint's staging copies 3P
//   (weights and moments gathered into one buffer each before writing)   → 7P
//   activations kept for the backward pass, per layer, for T = batchSize·seqLen tokens:
//     attention  ~10·d per token (norms, q/k/v/o, residual) + 3·B·h·S² (scores, probabilities, mask)
//     MLP/experts 4 floats per hidden unit a token reaches (gate, up, activation, product):
//                 k·c experts of width dFf (c = capacityFactor when finite, else 1), s shared of
//                 width sharedDFf, or the dense FFN; + the router's E logits
//   the output layer 3·T·V (logits, log-softmax, its gradient), once
//   × 5: the backward pass holds activation gradients of the same size while it runs, TF.js makes
//        intermediate copies (reshapes, transposes, softmax, routing gathers) this count leaves
//        out, and the wasm heap keeps its peak; the factor is calibrated, not derived
//   + a fixed 350 MiB for Node.js, the TF.js runtime and OpenBLAS (a 76k-parameter run peaks at 345 MiB).
// Calibration (docs/training.md): a 15.3M-parameter, 4-layer MoE at batch 16 × seqLen 256 on the
// wasm backend peaked at 3.71 GiB resident; this estimate says 3.76 GiB.
// This is an estimate from the model's structure (docs/training.md "Guarantees"), not
// a measurement: it is meant to catch configs off by orders of magnitude, and `--max-memory`
// raises or lowers the limit it is compared with.
import type { ResolvedModelConfig } from '../config/resolve.ts';
import { ConfigError } from '../errors.ts';
import { countParams, isDenseModel } from '../model/count.ts';

const BYTES = 4;
const RUNTIME_BYTES = 350 * 2 ** 20;

export interface MemoryEstimate {
  totalParams: number;
  /** Parameters, gradients, AdamW moments and checkpoint staging (7 × 4 bytes per parameter). */
  parameterBytes: number;
  /** Activations and their gradients for one step. */
  activationBytes: number;
  runtimeBytes: number;
  totalBytes: number;
  /** The config fields that drive the estimate most, largest first (for the error message). */
  drivers: string[];
}

export function estimateTrainingMemory(model: ResolvedModelConfig, batchSize: number): MemoryEstimate {
  const counts = countParams(model);
  const { dModel: d, numLayers: l, numHeads: h, seqLen: S, vocabSize: V } = model;
  const T = batchSize * S;
  const dense = isDenseModel(model);
  const capacity = Number.isFinite(model.capacityFactor) ? model.capacityFactor : 1;
  const attention = T * 10 * d + 3 * batchSize * h * S * S;
  const mlp = dense
    ? 4 * T * model.dFf
    : 4 * T * (Math.min(model.topK, model.numExperts) * capacity * model.dFf + model.numSharedExperts * model.sharedDFf) + 3 * T * model.numExperts;
  const perLayer = attention + mlp;
  const output = 3 * T * V;
  const activationBytes = 5 * BYTES * (l * perLayer + output);
  const parameterBytes = 7 * BYTES * counts.totalParams;

  // Which fields drive the larger part: parameter groups or activation terms.
  const drivers: [string[], number][] =
    parameterBytes >= activationBytes
      ? [
          [['model.dFf', 'model.numExperts', 'model.numLayers'], counts.specializedExperts],
          [['model.dFf', 'model.sharedDFf', 'model.numSharedExperts', 'model.numLayers'], counts.sharedExperts + counts.ffn],
          [['model.vocabSize', 'model.dModel'], counts.embedding],
          [['model.dModel', 'model.numLayers', 'model.numHeads'], counts.attention + counts.router + counts.norms],
        ]
      : [
          [['train.batchSize', 'model.seqLen', 'model.dFf', 'model.numLayers'], l * mlp],
          [['train.batchSize', 'model.seqLen', 'model.numHeads', 'model.numLayers'], l * attention],
          [['train.batchSize', 'model.seqLen', 'model.vocabSize'], output],
        ];
  drivers.sort((a, b) => b[1] - a[1]);
  // Within the largest term, the field furthest above an ordinary value comes first (the likely typo).
  const ordinary: Record<string, number> = {
    'train.batchSize': 64,
    'model.seqLen': 1024,
    'model.dFf': 4 * d,
    'model.sharedDFf': 4 * d,
    'model.numLayers': 32,
    'model.numExperts': 64,
    'model.numSharedExperts': 2,
    'model.numHeads': Math.max(1, d / 32),
    'model.vocabSize': 65536,
    'model.dModel': 4096,
  };
  const valueOf = (f: string) => (f === 'train.batchSize' ? batchSize : Number((model as unknown as Record<string, unknown>)[f.slice('model.'.length)]));
  const ranked = [...drivers[0][0]].sort((a, b) => valueOf(b) / ordinary[b] - valueOf(a) / ordinary[a]);
  const unusual = ranked.filter((f) => valueOf(f) > ordinary[f]);
  const fields = unusual.length > 0 ? unusual : ranked;
  return {
    totalParams: counts.totalParams,
    parameterBytes,
    activationBytes,
    runtimeBytes: RUNTIME_BYTES,
    totalBytes: parameterBytes + activationBytes + RUNTIME_BYTES,
    drivers: fields,
  };
}

/** `1536` → `1.5 KiB`… in binary units, 3 significant digits. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? String(Math.round(v)) : Number(v.toPrecision(3)).toString()} ${units[u]}`;
}

/** `--max-memory` values: `8G`, `512M`, `1.5GiB`, `2T`, or plain bytes. */
export function parseMemorySize(value: string, source: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(value);
  const scale = m ? { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'] : undefined;
  const bytes = m && scale !== undefined ? Number(m[1]) * scale : NaN;
  if (!(bytes > 0) || !Number.isFinite(bytes)) {
    throw new ConfigError(source, value, 'Give a size such as 8G, 512M or 1.5GiB (binary units), or a number of bytes.', 'not a memory size');
  }
  return bytes;
}

/**
 * Refuse (ConfigError naming the fields that drive the estimate) a run whose estimated memory
 * exceeds `limitBytes`; `limitSource` says where the limit came from, for the message.
 */
export function checkTrainingMemory(model: ResolvedModelConfig, batchSize: number, limitBytes: number, limitSource: string): MemoryEstimate {
  const est = estimateTrainingMemory(model, batchSize);
  const valueOf = (f: string) => (f === 'train.batchSize' ? batchSize : (model as unknown as Record<string, unknown>)[f.slice('model.'.length)]);
  if (est.totalBytes > limitBytes) {
    throw new ConfigError(
      est.drivers.join(', '),
      est.drivers.length === 1
        ? valueOf(est.drivers[0])
        : Object.fromEntries(est.drivers.map((f) => [f, valueOf(f)])),
      `Make the model or the batch smaller (start with ${est.drivers[0]}), or, if the estimate is too cautious for this machine, raise the limit with --max-memory (env MOELAB_MAX_MEMORY).`,
      `the run would need about ${formatBytes(est.totalBytes)} of memory (${est.totalParams.toExponential(2)} parameters: ` +
        `${formatBytes(est.parameterBytes)} with gradients and AdamW state; activations ${formatBytes(est.activationBytes)}), ` +
        `more than ${limitSource} (${formatBytes(limitBytes)})`,
    );
  }
  return est;
}
