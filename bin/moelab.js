#!/usr/bin/env node
// The `moelab` command. In a clone (src/ present) it runs the TypeScript sources through tsx, so
// edits apply without a build; in the installed package (no src/) it runs the compiled dist/
// (`npm run build`; docs/package.md). MOELAB_DIST=1 forces dist/ in a clone. tsx is registered in
// both cases: experiment files in TypeScript (.ts, .mts) written in the user's own folder load
// through it and `import … from 'moelab'` resolves to the package's dist/.
import { existsSync } from 'node:fs';
import { register } from 'tsx/esm/api';

register();
const source = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(source) && process.env.MOELAB_DIST !== '1') await import(source.href);
else await import('../dist/cli/main.js');
