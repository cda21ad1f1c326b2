/**
 * A secret the dev default generates once and keeps (the codec key, the codec server's token).
 */
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Creates `file` (0600, in a 0700 directory) with `contents()` unless it exists; returns whether it
 * created it. `wx`: when two processes start at once, the second reads the first one's secret instead
 * of replacing it.
 */
export function ensureGeneratedSecretFile(file: string, contents: () => string): boolean {
  try {
    statSync(file);
    return false;
  } catch {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    let created = false;
    try {
      writeFileSync(file, contents(), { mode: 0o600, flag: 'wx' });
      created = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    chmodSync(file, 0o600);
    return created;
  }
}
