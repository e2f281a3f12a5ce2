// `moelab completion bash|zsh`: the scripts come from the real command definitions; bash runs the
// completion function on typed command lines; zsh (when installed) parses the script.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/util/provenance.ts';

const BIN = join(PROJECT_ROOT, 'bin', 'moelab.js');
const root = mkdtempSync(join(tmpdir(), 'moelab-completion-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const moelab = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

const bashScript = moelab(['completion', 'bash']).stdout;
writeFileSync(join(root, 'moelab.bash'), bashScript);
writeFileSync(join(root, 'experiment.ts'), '');

/** What bash completes for the words typed so far (the last one is being completed). */
function complete(words: string[]): string[] {
  const script = `source ${JSON.stringify(join(root, 'moelab.bash'))}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}
_moelab; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync('bash', ['-c', script], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean).sort();
}

describe('moelab completion', () => {
  it('bash completes commands, their options, option choices, subcommands and files', () => {
    expect(complete(['moelab', 'st'])).toEqual(['status']);
    expect(complete(['moelab', 'da'])).toEqual(['dashboard']);
    expect(complete(['moelab', '--res'])).toEqual(['--results']);
    expect(complete(['moelab', 'train', '--force'])).toEqual(['--force-rerun']);
    expect(complete(['moelab', 'train', '--progress', ''])).toEqual(['auto', 'bar', 'lines']);
    expect(complete(['moelab', '--results', 'r', 'plan', '--no-e'])).toEqual(['--no-estimate']);
    expect(complete(['moelab', 'fit', 'param'])).toEqual(['parametric']);
    expect(complete(['moelab', 'plan', 'exp'])).toEqual(['experiment.ts']);
    expect(complete(['moelab', 'completion', 'z'])).toEqual(['zsh']);
  });

  it('zsh parses the zsh script; an unknown shell is refused naming the fix', () => {
    const zsh = moelab(['completion', 'zsh']);
    expect(zsh.stdout).toMatch(/^#compdef moelab/);
    expect(zsh.stdout).toMatch(/'dashboard:a local web page/);
    writeFileSync(join(root, '_moelab'), zsh.stdout);
    const hasZsh = spawnSync('zsh', ['--version']).status === 0;
    if (hasZsh) expect(spawnSync('zsh', ['-n', join(root, '_moelab')], { encoding: 'utf8' }).stderr).toBe('');
    const fish = moelab(['completion', 'fish']);
    expect(fish.status).toBe(1);
    expect(fish.stderr).toMatch(/shell: unsupported shell \(got "fish"\)\. Use `moelab completion bash` or `moelab completion zsh`/);
  });
});
