// Merging partial user configs (pure). A sweep builds each run's config as
//   builder model ← base ← the kind's fields ← a grid point
// and these helpers define what "←" means.

type Plain = Record<string, unknown>;

export function isPlainObject(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

/**
 * Deep merge of `over` onto `under`, returning a new object. Plain objects merge key by key,
 * except tagged unions (objects with a `kind` or `mode` key: schedules, tokenizers, expert-LR
 * modes), which replace whole: merging a WSD schedule into a cosine one must not keep the
 * cosine's fields. Arrays and other values replace. `undefined` in `over` leaves `under`.
 */
export function mergeConfig<T>(under: T, over: unknown): T {
  if (over === undefined) return under;
  if (!isPlainObject(under) || !isPlainObject(over) || isTagged(over)) return clone(over) as T;
  const out: Plain = { ...under };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    out[key] = key in out ? mergeConfig(out[key], value) : clone(value);
  }
  return out as T;
}

function isTagged(v: Plain): boolean {
  return 'kind' in v || 'mode' in v;
}

function clone(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clone);
  if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clone(x)]));
  return v;
}

/** `setPath(cfg, 'train.lr', 3e-3)`: a copy of `target` with the dotted path set (objects created as needed). */
export function setPath<T extends Plain>(target: T, path: string, value: unknown): T {
  const [head, ...rest] = path.split('.');
  const out: Plain = { ...target };
  if (rest.length === 0) {
    out[head] = clone(value);
  } else {
    const child = isPlainObject(out[head]) ? (out[head] as Plain) : {};
    out[head] = setPath(child, rest.join('.'), value);
  }
  return out as T;
}

/** Value at a dotted path, or undefined. */
export function getPath(target: unknown, path: string): unknown {
  let cur = target;
  for (const key of path.split('.')) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

/**
 * The points of a grid: `grid` = every combination (the first axis varies slowest), `zip` =
 * the i-th value of every axis (all axes must have the same length; the caller checks).
 */
export function expandAxes(axes: Record<string, unknown[]>, mode: 'grid' | 'zip'): Record<string, unknown>[] {
  const keys = Object.keys(axes);
  if (mode === 'zip') {
    const n = keys.length === 0 ? 0 : axes[keys[0]].length;
    return Array.from({ length: n }, (_, i) => Object.fromEntries(keys.map((k) => [k, axes[k][i]])));
  }
  let points: Record<string, unknown>[] = [{}];
  for (const key of keys) {
    points = points.flatMap((p) => axes[key].map((v) => ({ ...p, [key]: v })));
  }
  return points;
}
