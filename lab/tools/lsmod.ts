/** Lab `lsmod`: the host's loaded modules in lsmod's format (newest first, as the kernel lists them). */
import { KNOWN_MODULES, loadedModules, usersOf } from './modules';

const loaded = loadedModules();
const lines = ['Module                  Size  Used by'];
for (const module of [...loaded].reverse()) {
  const users = usersOf(module, loaded);
  const size = String(KNOWN_MODULES[module]?.size ?? 16384);
  lines.push(`${module.padEnd(19)} ${size.padStart(8)}  ${users.length}${users.length ? ` ${users.join(',')}` : ''}`);
}
process.stdout.write(`${lines.join('\n')}\n`);
