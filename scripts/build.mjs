#!/usr/bin/env node
// Build the package: compile src/ to dist/ (JavaScript + .d.ts) with the project's TypeScript, so
// node, tsc (NodeNext) and bundlers use moelab without tsx (docs/package.md).
//
// tsc's rewriteRelativeImportExtensions turns `./x.ts` into `./x.js` in the emitted JavaScript;
// declaration files keep the `.ts` specifiers (TypeScript does not rewrite them), which a
// consumer's tsc rejects (TS5097), so this script rewrites them too. The build goes to a temp
// folder and replaces dist/ at the end: an interrupted build leaves the previous dist/ whole.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
// `typescript` itself, never node_modules/.bin/tsc: tslab's bundled TypeScript 5.0 can claim that link.
const tsc = require.resolve('typescript/bin/tsc');
const out = join(root, 'dist');
const tmp = join(root, `dist.tmp-${process.pid}`);

rmSync(tmp, { recursive: true, force: true });
const started = Date.now();
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', tmp], { cwd: root, stdio: 'inherit' });
} catch {
  rmSync(tmp, { recursive: true, force: true });
  process.stderr.write('build: tsc failed (errors above); dist/ left as it was\n');
  process.exit(1);
}

/** `from './x.ts'`, `import('./x.ts')` → `.js` (relative specifiers only). */
export function rewriteDeclarationSpecifiers(text) {
  return text.replace(/((?:from\s+|import\s*\(\s*)['"])(\.{1,2}\/[^'"]*?)\.(m?)ts(['"])/g, (_m, pre, path, m, quote) => `${pre}${path}.${m}js${quote}`);
}

let rewritten = 0;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.d.ts')) {
      const text = readFileSync(path, 'utf8');
      const next = rewriteDeclarationSpecifiers(text);
      if (next !== text) {
        writeFileSync(path, next);
        rewritten++;
      }
    }
  }
}
walk(tmp);
if (!existsSync(join(tmp, 'index.js')) || !existsSync(join(tmp, 'cli', 'main.js'))) {
  rmSync(tmp, { recursive: true, force: true });
  process.stderr.write('build: tsc wrote no index.js / cli/main.js; dist/ left as it was\n');
  process.exit(1);
}
rmSync(out, { recursive: true, force: true });
renameSync(tmp, out);
process.stdout.write(`build: dist/ written in ${((Date.now() - started) / 1000).toFixed(1)} s (${rewritten} declaration files with rewritten imports)\n`);
