// The attack on checkpoints, end to end: flip every 997th byte of weights.bin (size unchanged) and
// resume. Before checksums the run finished as `done` at a garbage loss; now the resume is refused
// naming the file and the way out, and following that way out (the previous checkpoint) ends the
// run at exactly the loss of the undamaged run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/io/results.ts';
import { PROJECT_ROOT } from '../../src/util/provenance.ts';

const root = mkdtempSync(join(tmpdir(), 'moelab-ckpt-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const train = (cfg: string, out: string) =>
  spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'moelab.js'), 'train', '--config', cfg, '--out', out, '--quiet'], {
    env: { ...process.env, MOELAB_BACKEND: 'wasm', MOELAB_BLAS_THREADS: '1' },
    encoding: 'utf8',
  });

describe('moelab train: a damaged checkpoint', () => {
  it('is refused naming weights.bin; resuming from the previous checkpoint ends at the undamaged loss', () => {
    const cfg = join(root, 'tiny.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        seed: 1,
        model: { vocabSize: 256, seqLen: 32, dModel: 32, numLayers: 2, numHeads: 2, dFf: 64, numExperts: 4, numSharedExperts: 1, topK: 1 },
        data: { valTokens: 8192 },
        train: { tokens: 20 * 4 * 32, batchSize: 4, lr: 0.01, evalEvery: 10, evalBatches: 2, checkpointEvery: 5, logEvery: 5 },
      }),
    );
    const out = join(root, 'run');
    const first = train(cfg, out);
    expect(first.status, first.stderr).toBe(0);
    const done = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as RunSummary;
    const ckpt = join(out, 'checkpoint');
    expect(readdirSync(ckpt).sort()).toEqual(['latest.json', 'step-000015', 'step-000020']);

    // Make the run unfinished again, at its last checkpoint, and damage that checkpoint.
    rmSync(join(out, 'summary.json'));
    const weights = join(ckpt, 'step-000020', 'weights.bin');
    const bytes = readFileSync(weights);
    for (let i = 0; i < bytes.length; i += 997) bytes[i] ^= 0x5a;
    writeFileSync(weights, bytes);

    const refused = train(cfg, out);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(
      /CorruptFileError: .*step-000020\/weights\.bin: does not match the sha256 recorded in its manifest.*To resume from the previous checkpoint \(step-000015\), delete .*step-000020 and .*latest\.json/,
    );
    expect(refused.stderr).not.toMatch(/\n\s+at /);

    rmSync(join(ckpt, 'step-000020'), { recursive: true });
    rmSync(join(ckpt, 'latest.json'));
    const resumed = train(cfg, out);
    expect(resumed.status, resumed.stderr).toBe(0);
    const again = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as RunSummary;
    expect(again.finalValLoss).toBe(done.finalValLoss);
    expect(again.finalTrainLoss).toBe(done.finalTrainLoss);

    // A damaged config.json is named; the way out is a backup or a fresh start, never "delete it"
    // (that would resume without the config checks).
    rmSync(join(out, 'summary.json'));
    writeFileSync(join(out, 'config.json'), readFileSync(join(out, 'config.json'), 'utf8').slice(0, 80));
    const badConfig = train(cfg, out);
    expect(badConfig.status).toBe(1);
    expect(badConfig.stderr).toMatch(/CorruptFileError: .*run\/config\.json: not valid JSON at line \d+, column \d+.*Restore it from a backup, or delete the run folder/);
  }, 120_000);
});
