// Writing fit records into a sweep's fits/ folder (atomically; one file per record). Reading them
// back is loadSweep's job (src/io/load.ts).
import { writeJsonAtomic } from './atomic.ts';
import { sweepPaths } from './results.ts';

/** Write `record` as fits/<fileName> of the sweep folder; returns the path. */
export function writeFitRecord(sweepDir: string, fileName: string, record: object): string {
  const path = `${sweepPaths(sweepDir).fits}/${fileName}`;
  writeJsonAtomic(path, record);
  return path;
}
