// Multi-threaded wasm (XNNPACK thread pool). tfjs 4.22 disables it in Node; enabling it is
// issue #10's work. Until then a request for more than one thread fails clearly.
import { BackendError } from '../errors.ts';

export function enableWasmThreads(_wasm: unknown, threads: number): void {
  throw new BackendError(
    `wasm threads: ${threads} requested, but this build runs wasm single-threaded. ` +
      'Use --threads 1 (or unset MOELAB_THREADS).',
  );
}
