/**
 * Lab `modprobe`: `modprobe [-q] [-a] module...`, `modprobe -r module...`. Unknown modules fail
 * as modprobe does ("FATAL: Module X not found in directory /lib/modules/<release>", exit 1).
 */
import os from 'node:os';
import { die } from './labState';
import { KNOWN_MODULES, loadModule, moduleName, unloadModule } from './modules';

function main(argv: string[]): void {
  let remove = false;
  let quiet = false;
  let all = false;
  const names: string[] = [];
  for (const arg of argv) {
    if (arg === '-r' || arg === '--remove') remove = true;
    else if (arg === '-q' || arg === '--quiet') quiet = true;
    else if (arg === '-a' || arg === '--all') all = true;
    else if (arg === '-v' || arg === '--verbose' || arg === '-b' || arg === '--use-blacklist') continue;
    else if (arg.startsWith('-')) die(`modprobe: ERROR: unrecognized option '${arg}'`, 1);
    else names.push(arg);
  }
  if (names.length === 0) die('modprobe: ERROR: missing parameters. See -h.', 1);
  // Without -a or -r, only the first word is a module; the rest are its parameters.
  const modules = (remove || all ? names : names.slice(0, 1)).map(moduleName);
  for (const module of modules) {
    if (!(module in KNOWN_MODULES)) {
      if (quiet) process.exit(1);
      die(`modprobe: FATAL: Module ${module} not found in directory /lib/modules/${os.release()}`, 1);
    }
    if (remove && !unloadModule(module)) die(`modprobe: FATAL: Module ${module} is in use.`, 1);
    if (!remove) loadModule(module);
  }
}

main(process.argv.slice(2));
