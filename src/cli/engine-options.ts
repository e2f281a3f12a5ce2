// The --backend / --threads options shared by every command that runs TF.js.
import { Option, type Command } from 'commander';
import { BACKEND_NAMES, initEngine, parseBackendRequest, parseThreads, type EngineInfo } from '../engine/backend.ts';

export function addEngineOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--backend <name>', 'TF.js backend (env MOELAB_BACKEND)')
        .choices(['auto', ...BACKEND_NAMES])
        .default(undefined),
    )
    .option('--threads <n>', 'wasm threads (env MOELAB_THREADS)')
    .option('--no-native', 'wasm: do not use the native OpenBLAS matmul kernel (env MOELAB_NATIVE=0)');
}

export async function initEngineFromOptions(opts: {
  backend?: string;
  threads?: string;
  native?: boolean;
}): Promise<EngineInfo> {
  const backend = opts.backend
    ? parseBackendRequest(opts.backend, '--backend')
    : parseBackendRequest(process.env.MOELAB_BACKEND, 'MOELAB_BACKEND');
  const threads =
    parseThreads(opts.threads, '--threads') ?? parseThreads(process.env.MOELAB_THREADS, 'MOELAB_THREADS');
  // commander defaults `native` to true; only an explicit --no-native overrides MOELAB_NATIVE.
  return initEngine({ backend, threads, native: opts.native === false ? false : undefined });
}
