// Pure-wasm reference step: the product shapes it issues (BatchMatMul calls, flags, CPU ms per
// shape) and the GFLOP/s of tfjs-wasm's stock BatchMatMul (XNNPACK for rank-2 unflagged
// products) against one-thread OpenBLAS sgemm (the native addon) on the same shapes, on the same
// heap. A lower bound for the pure-wasm step if products were its only cost (issue #18).
//   nice -n 10 npx tsx bench/wasm-products.ts [--json]
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/engine/backend.ts';
import { createStepRunner } from '../src/engine/bench.ts';
import { loadNativeAddon } from '../src/engine/native-matmul.ts';

const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
await initEngine({ backend: 'wasm', native: false, log: () => {} });

// 1. Record the step's products: wrap the registered BatchMatMul kernel.
type Rec = { key: string; calls: number; cpuMs: number; flops: number; a: number[]; b: number[]; tA: boolean; tB: boolean };
const recs = new Map<string, Rec>();
const config = tf.getKernel('BatchMatMul', 'wasm')!;
let depth = 0;
tf.unregisterKernel('BatchMatMul', 'wasm');
tf.registerKernel({ ...config, kernelFunc: ((args: any) => {
  const { a, b } = args.inputs; const { transposeA: tA, transposeB: tB } = args.attrs;
  const key = `[${a.shape}]${tA ? 'ᵀ' : ''}·[${b.shape}]${tB ? 'ᵀ' : ''}`;
  const m = tA ? a.shape.at(-1) : a.shape.at(-2), k = tA ? a.shape.at(-2) : a.shape.at(-1);
  const n = tB ? b.shape.at(-2) : b.shape.at(-1);
  const batch = Math.max(a.shape.slice(0, -2).reduce((p: number, d: number) => p * d, 1), b.shape.slice(0, -2).reduce((p: number, d: number) => p * d, 1));
  const outer = depth++ === 0;
  const c0 = cpu();
  try { return (config.kernelFunc as any)(args); } finally {
    depth--;
    if (outer) {
      const r = recs.get(key) ?? { key, calls: 0, cpuMs: 0, flops: 2 * batch * m * n * k, a: a.shape, b: b.shape, tA, tB };
      r.calls++; r.cpuMs += cpu() - c0; recs.set(key, r);
    }
  }
}) as any });
const runner = createStepRunner(0);
for (let i = 0; i < 2; i++) runner.step();
recs.clear();
const S = 3;
const s0 = cpu();
for (let i = 0; i < S; i++) runner.step();
const stepCpu = (cpu() - s0) / S;
runner.dispose();
tf.unregisterKernel('BatchMatMul', 'wasm');
tf.registerKernel(config);

// 2. Time each distinct product shape: stock wasm (as registered: heap kernels on) vs OpenBLAS 1 thread.
const load = loadNativeAddon();
const addon = load.addon;
addon?.setThreads(1);
const backend = tf.backend() as any;
const rows = [...recs.values()].sort((x, y) => y.cpuMs - x.cpuMs);
const time = (f: () => void, minMs = 150) => { f(); let n = 0; const c0 = cpu(); do { f(); n++; } while (cpu() - c0 < minMs); return (cpu() - c0) / n; };
let totWasm = 0, totBlas = 0, totStep = 0, totFlops = 0;
const out: any[] = [];
for (const r of rows) {
  const a = tf.randomNormal(r.a, 0, 1, 'float32', 1), b = tf.randomNormal(r.b, 0, 1, 'float32', 2);
  const wasmMs = time(() => tf.matMul(a as any, b as any, r.tA, r.tB).dispose());
  let blasMs = NaN;
  if (addon) {
    const m = r.tA ? r.a.at(-1)! : r.a.at(-2)!, k = r.tA ? r.a.at(-2)! : r.a.at(-1)!, n = r.tB ? r.b.at(-2)! : r.b.at(-1)!;
    const batch = r.flops / (2 * m * n * k);
    const c = tf.zeros([batch, m, n]);
    const off = (t: tf.Tensor) => backend.dataIdMap.get(t.dataId).memoryOffset >>> 2;
    const aStep = r.a.length > 2 && r.a[0] > 1 ? m * k : 0, bStep = r.b.length > 2 && r.b[0] > 1 ? k * n : 0;
    blasMs = time(() => addon.sgemm(backend.wasm.HEAPF32, r.tA, r.tB, m, n, k, off(a), off(b), off(c), batch, aStep, bStep, m * n));
    c.dispose();
  }
  a.dispose(); b.dispose();
  const perStep = r.calls / S;
  totWasm += wasmMs * perStep; totBlas += blasMs * perStep; totStep += r.cpuMs / S; totFlops += r.flops * perStep;
  out.push({ shape: r.key, perStep, stepCpuMs: r.cpuMs / S, wasmGflops: r.flops / wasmMs / 1e6, blasGflops: r.flops / blasMs / 1e6, wasmMs, blasMs });
}
if (process.argv.includes('--json')) { console.log(JSON.stringify({ stepCpu, totStep, totWasm, totBlas, totFlops, out })); process.exit(0); }
console.log(`pure-wasm step ${stepCpu.toFixed(0)} CPU ms; BatchMatMul in the step ${totStep.toFixed(0)} CPU ms (${(totFlops / 1e9).toFixed(2)} GFLOP per step)`);
console.log(`isolated: stock wasm ${totWasm.toFixed(0)} ms (${(totFlops / totWasm / 1e6).toFixed(1)} GFLOP/s), OpenBLAS 1 thread ${totBlas.toFixed(0)} ms (${(totFlops / totBlas / 1e6).toFixed(1)} GFLOP/s)`);
console.log('shape | calls/step | step CPU ms | wasm GFLOP/s | OpenBLAS-1t GFLOP/s');
for (const o of out) console.log(`${o.shape} | ${o.perStep} | ${o.stepCpuMs.toFixed(1)} | ${o.wasmGflops.toFixed(1)} | ${o.blasGflops.toFixed(1)}`);
