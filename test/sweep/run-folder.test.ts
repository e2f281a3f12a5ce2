// A single `moelab train --out DIR` folder is classified by the same code as a sweep's runs
// (src/sweep/state.ts inspectRunDir): the same states and the same detail texts.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectRunFolder } from '../../src/sweep/run-folder.ts';

const root = mkdtempSync(join(tmpdir(), 'moelab-run-folder-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function runDir(name: string, files: Record<string, string>, checkpoint = false): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ runId: name, derived: { steps: 40 } }));
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  if (checkpoint) mkdirSync(join(dir, 'checkpoint', 'step-000020'), { recursive: true });
  return dir;
}

const metrics = `${JSON.stringify({ step: 10, trainLoss: 3.1 })}\n${JSON.stringify({ step: 20, trainLoss: 2.9 })}\n`;

describe('inspectRunFolder', () => {
  it('done and diverged from summary.json', () => {
    expect(inspectRunFolder(runDir('done', { 'summary.json': JSON.stringify({ status: 'done', steps: 40, finalTrainLoss: 2.5, finalValLoss: 2.6 }) }))).toEqual({
      runId: 'done', steps: 40, state: 'done', step: 40, trainLoss: 2.5, finalValLoss: 2.6, detail: '', resumable: false,
    });
    expect(inspectRunFolder(runDir('div', { 'summary.json': JSON.stringify({ status: 'diverged', steps: 12, reason: 'loss is NaN' }) }))).toMatchObject({ state: 'diverged', step: 12, detail: 'loss is NaN' });
  });

  it('failed with the sweep\'s detail text (how, executor, attempts); pending, resumable or not', () => {
    const failed = runDir('failed', { 'metrics.jsonl': metrics, 'failed.json': JSON.stringify({ runId: 'failed', index: 0, executor: 'local', exitCode: 3, signal: null, attempts: 2, at: 'now' }) }, true);
    expect(inspectRunFolder(failed)).toEqual({ runId: 'failed', steps: 40, state: 'failed', step: 20, trainLoss: 2.9, finalValLoss: null, detail: 'exit code 3 (local, 2 attempt(s))', resumable: true });
    expect(inspectRunFolder(runDir('paused', { 'metrics.jsonl': metrics }, true))).toMatchObject({ state: 'pending', step: 20, detail: 'resumable from its checkpoint', resumable: true });
    expect(inspectRunFolder(runDir('fresh', {}))).toMatchObject({ state: 'pending', step: null, detail: '', resumable: false });
  });

  it('a summary.json that cannot be read: corrupt, named in the detail (as in a sweep)', () => {
    const row = inspectRunFolder(runDir('torn', { 'metrics.jsonl': metrics, 'summary.json': '{"status": "do' }));
    expect(row.state).toBe('corrupt');
    expect(row.detail).toMatch(/summary\.json/);
    expect(row.step).toBe(20);
  });

  it('a folder with neither plan.json nor config.json is refused', () => {
    mkdirSync(join(root, 'empty'));
    expect(() => inspectRunFolder(join(root, 'empty'))).toThrow(/dir: neither plan\.json nor config\.json there/);
  });
});
