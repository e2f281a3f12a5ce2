// `moelab env`: what machine and engine this is, at a glance.
import { cpus, totalmem } from 'node:os';
import type { Command } from 'commander';
import { addEngineOptions, initEngineFromOptions } from './engine-options.ts';

export function registerEnv(program: Command): void {
  addEngineOptions(
    program
      .command('env')
      .description('print the chosen TF.js backend, versions, threads and a matmul GFLOP/s probe')
      .option('--json', 'print JSON'),
  ).action(async (opts: { backend?: string; threads?: string; native?: boolean; json?: boolean }) => {
    const { probeMatmulGflops, probeMatmulGflopsAsync } = await import('../engine/backend.ts');
    const info = await initEngineFromOptions(opts);
    // A GPU: a larger product (a 256³ one measures launch and read latency, not the GPU).
    const probeN = info.backend === 'webgpu' && !info.adapter?.software ? 2048 : 256;
    const gflops = info.syncReads ? probeMatmulGflops(probeN) : await probeMatmulGflopsAsync(probeN);
    if (info.backend === 'webgpu') (await import('../engine/webgpu.ts')).assertDeviceHealthy();
    const machine = {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
    };
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ ...info, matmulGflops256: probeN === 256 ? gflops : undefined, matmulProbe: { n: probeN, gflops }, machine }, null, 2)}\n`);
      return;
    }
    const lines = [
      `backend      ${info.backend}  (tf.js backend "${info.tfBackend}")`,
      `tf.js        ${info.tfjsVersion}`,
      `packages     ${Object.entries(info.packages).map(([k, v]) => `${k}@${v}`).join(', ')}`,
      `threads      ${info.threads}${info.backend === 'wasm' ? `  simd ${info.simd ? 'on' : 'off'}` : ''}`,
      `native mm    ${info.nativeMatmul ? `on (OpenBLAS cblas_sgemm, ${info.blasThreads} thread(s))` : `off: ${info.nativeMatmulReason}`}`,
      ...(info.adapter
        ? [
            `adapter      ${info.adapter.vendor} / ${info.adapter.architecture} / ${info.adapter.description || info.adapter.device}` +
              `${info.adapter.software ? '  (software: correctness only)' : ''}`,
            `gpu limits   maxStorageBufferBindingSize ${info.adapter.limits.maxStorageBufferBindingSize} B, maxBufferSize ` +
              `${info.adapter.limits.maxBufferSize} B, workgroup storage ${info.adapter.limits.maxComputeWorkgroupStorageSize} B, ` +
              `${info.adapter.limits.maxComputeInvocationsPerWorkgroup} invocations/workgroup`,
          ]
        : []),
      `device path  ${info.deviceResident ? 'on (routing, dispatch and attention on the device)' : 'off (host kernels)'}`,
      `skipped      ${info.skipped.length ? info.skipped.map((s) => `${s.backend} (${s.reason})`).join('; ') : '-'}`,
      `machine      ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}`,
      `matmul       ${gflops.toFixed(1)} GFLOP/s (${probeN}×${probeN}·${probeN}×${probeN} fp32, median of 9)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  });
}
