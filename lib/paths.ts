/**
 * Where kubeha finds its tools and keeps its data on the worker's machine.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The project's root: KUBEHA_ROOT, else the nearest directory above this file with kubeha's
 * package.json (this file runs from dist/lib/), else the working directory.
 */
export const projectRoot = ((): string => {
  if (process.env.KUBEHA_ROOT) return path.resolve(process.env.KUBEHA_ROOT);
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    try {
      if (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).name === 'kubeha') return dir;
    } catch {
      // no package.json here: keep walking up
    }
  }
  return process.cwd();
})();

/** kubeha's data directory: secrets, the dev server's SQLite file, lab state. */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.KUBEHA_DATA_DIR ?? path.join(projectRoot, '.kubeha'));
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds an executable on PATH, as an absolute path. */
export function which(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.resolve(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Finds a tool: an explicit env override, the project's virtualenv (scripts/setup.sh), then PATH.
 * Always absolute, because Temporal's test environment does no PATH look-up.
 */
export function findTool(name: string, overrideVar: string, env: NodeJS.ProcessEnv = process.env): string {
  const override = env[overrideVar];
  if (override) return path.resolve(override);
  const local = path.join(projectRoot, '.venv', 'bin', name);
  if (existsSync(local)) return local;
  const onPath = which(name, env);
  if (onPath) return onPath;
  throw new Error(`${name} not found: run \`npm run setup\` (installs it into .venv), put it on PATH, or set ${overrideVar}`);
}

/** The Temporal CLI (dev server). */
export const temporalCliPath = (env: NodeJS.ProcessEnv = process.env): string => findTool('temporal', 'TEMPORAL_CLI_PATH', env);
