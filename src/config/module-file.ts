// Loading a user's TypeScript/JavaScript file (an experiment file, a .ts run config) so that a
// syntax error is reported as file:line:column wherever the file lives. Inside the project tsx
// compiles it as an ES module and esbuild names the place; outside (no package.json with
// "type": "module") Node's loader reports only "Cannot require() ES Module … in a cycle". So when
// an import fails, the file is checked with esbuild (tsx's own compiler) and its first syntax error
// becomes the message.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dirname, resolve } from 'node:path';
import { importUserModule as loadDefaultExport, UserModuleLoadError } from '../io/user-module.ts';
import { ConfigError } from '../errors.ts';

interface EsbuildMessage {
  text: string;
  location: { file: string; line: number; column: number; lineText: string } | null;
}

/** The first syntax error of a TS/JS file as `file:line:column: message`, or undefined when it parses. */
export function syntaxErrorOf(file: string): string | undefined {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let esbuild: { transformSync: (code: string, options: Record<string, unknown>) => unknown };
  try {
    esbuild = createRequire(import.meta.resolve('tsx'))('esbuild') as typeof esbuild;
  } catch {
    return undefined; // no compiler to ask: the import error stands
  }
  const ext = extname(file);
  try {
    esbuild.transformSync(source, { loader: ext === '.js' || ext === '.mjs' ? 'js' : 'ts', format: 'esm', sourcefile: file });
    return undefined;
  } catch (err) {
    const first = (err as { errors?: EsbuildMessage[] }).errors?.[0];
    if (!first) return undefined;
    const loc = first.location;
    // esbuild columns are 0-based; editors count from 1.
    return loc ? `${file}:${loc.line}:${loc.column + 1}: ${first.text}\n    ${loc.lineText.trim()}` : `${file}: ${first.text}`;
  }
}

/**
 * Import a user's module from wherever it lives (src/io/user-module.ts: tsx's tsImport, so a `.ts`,
 * `.mts` or `.js` file outside this checkout that imports 'moelab' loads too). `field` names the
 * option it came from (for the ConfigError): a missing file, an import that cannot be resolved and
 * a syntax error (file, line and column) are each named as such.
 */
export async function importUserModule(file: string, field: string, shownPath: string, fix: string): Promise<{ default?: unknown }> {
  try {
    return { default: await loadDefaultExport(file) };
  } catch (err) {
    if (err instanceof UserModuleLoadError && err.detail.kind === 'missing') throw new ConfigError(field, shownPath, fix, 'no such file');
    if (err instanceof UserModuleLoadError && err.detail.kind === 'unresolved-import') {
      const hint =
        err.detail.specifier === 'moelab'
          ? 'Install moelab in this project (`npm install moelab` or the packed tarball; docs/package.md), or import from its path.'
          : `Install "${err.detail.specifier}" or fix the import path.`;
      throw new ConfigError(field, shownPath, hint, `it imports "${err.detail.specifier}", which cannot be found from ${dirname(resolve(file))}`);
    }
    const syntax = syntaxErrorOf(file);
    if (syntax) throw new ConfigError(field, shownPath, 'Fix the syntax error in the file.', `syntax error at ${syntax}`);
    throw new ConfigError(field, shownPath, fix, `cannot load the module (${(err as Error).message.split('\n')[0]})`);
  }
}
