// Loading an experiment file: `experiments/<name>.ts` (default export of defineSweep) or a JSON
// file. Both are validated by the one sweep schema; every problem is reported at once.
import { readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { ConfigError, ConfigErrors } from '../errors.ts';
import { importUserModule } from '../config/module-file.ts';
import { parseJsonText } from '../io/json.ts';
import { parseConfig } from '../config/validate.ts';
import { SweepSchema, type SweepDefinition } from '../config/sweep-schema.ts';

/** Validate a sweep definition given as data; `source` names where it came from. */
export function parseSweep(input: unknown, source: string): SweepDefinition {
  const parsed = parseConfig(SweepSchema, input, source);
  // `base` stays as written: it is merged into user-form run configs (plan.json), which the
  // trainer parses again, so schema transforms ("inf" → Infinity) must not be applied twice.
  const base = (input as { base?: unknown }).base;
  return { ...parsed, base: base === undefined ? {} : structuredClone(base) } as SweepDefinition;
}

/**
 * Load and validate `experiments/<name>.ts` (run under tsx) or a `.json` sweep file. `edit`, when
 * given, changes a copy of the definition as written before it is validated (`--set` of `moelab
 * plan`/`sweep`), so overridden values go through the same schema.
 */
export async function loadSweepFile(path: string, edit?: (raw: Record<string, unknown>) => void): Promise<SweepDefinition> {
  const file = resolve(path);
  const ext = extname(file);
  let raw: unknown;
  if (ext === '.json') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError('FILE', path, 'Give the path of an experiment file (.ts or .json).', (err as Error).message);
    }
    raw = parseJsonText(text, path, 'Fix the JSON syntax of the experiment file');
  } else if (ext === '.ts' || ext === '.mts' || ext === '.js' || ext === '.mjs') {
    const mod = await importUserModule(file, 'FILE', path, 'Give the path of an experiment file (.ts, .mts, .js or .json).');
    if (mod.default === undefined) {
      throw new ConfigError(
        'FILE',
        path,
        'Write `export default defineSweep({...})` in the experiment file.',
        'the file has no default export',
      );
    }
    raw = mod.default;
  } else {
    throw new ConfigError('FILE', path, 'Give an experiment file ending in .ts or .json.', 'unknown file type');
  }
  if (edit && raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    raw = structuredClone(raw);
    edit(raw as Record<string, unknown>);
  }
  return parseSweep(raw, path);
}
