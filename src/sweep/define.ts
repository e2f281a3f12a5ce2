// defineSweep(): the identity helper that gives experiment files type checking and completion
// (vitest's defineConfig pattern). Validation happens when the file is loaded (load.ts), so a
// JSON sweep and a TS sweep go through exactly the same checks.
import type { UserSweepDefinition } from '../config/sweep-schema.ts';

export function defineSweep<const T extends UserSweepDefinition>(definition: T): T {
  return definition;
}
