// Loading a user's module (an experiment file or a run config written in TypeScript or
// JavaScript) from any folder: `.ts`, `.mts`, `.js`, `.mjs`, in a project with or without
// `"type": "module"`, importing 'moelab' by name (docs/package.md).
//
// tsx's tsImport loads the file in its own module namespace. A plain `import()` under the
// globally registered tsx fails for a `.ts`/`.js` file with ES syntax in a CommonJS project
// ("Cannot require() ES Module … in a cycle"). tsImport compiles such a file to CommonJS, so its
// default export arrives wrapped (`{ default: { default: value } }`); unwrapDefault undoes that.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export type UserModuleError =
  | { kind: 'missing'; path: string }
  | { kind: 'unresolved-import'; path: string; specifier: string; message: string };

/** The module's default export as the author wrote it (CommonJS interop wrappers removed). */
export function unwrapDefault(mod: Record<string, unknown>): unknown {
  let value: unknown = mod.default;
  for (let i = 0; i < 2; i++) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) break;
    const keys = Object.keys(value).filter((k) => k !== '__esModule' && k !== 'module.exports');
    if (keys.length === 1 && keys[0] === 'default') value = (value as Record<string, unknown>).default;
    else break;
  }
  return value;
}

/** An error thrown by importUserModule, with what went wrong in a form the caller can report. */
export class UserModuleLoadError extends Error {
  constructor(readonly detail: UserModuleError) {
    super(
      detail.kind === 'missing'
        ? `no such file: ${detail.path}`
        : `${detail.path} imports "${detail.specifier}", which cannot be found: ${detail.message}`,
    );
    this.name = 'UserModuleLoadError';
  }
}

/** Import `path` (resolved against the current directory); returns its default export or undefined. */
export async function importUserModule(path: string): Promise<unknown> {
  const file = resolve(path);
  if (!existsSync(file)) throw new UserModuleLoadError({ kind: 'missing', path: file });
  const { tsImport } = await import('tsx/esm/api');
  let mod: Record<string, unknown>;
  try {
    mod = (await tsImport(pathToFileURL(file).href, import.meta.url)) as Record<string, unknown>;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') {
      const m = /(?:Cannot find (?:package|module) ')([^']+)'/.exec(e.message);
      throw new UserModuleLoadError({ kind: 'unresolved-import', path: file, specifier: m?.[1] ?? '?', message: e.message.split('\n')[0] });
    }
    throw err;
  }
  return unwrapDefault(mod);
}
