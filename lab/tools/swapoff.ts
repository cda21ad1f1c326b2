/** Lab `swapoff`: `-a` turns off the host's swap areas (`swap.json`), never the machine's. */
import { updateState } from './labState';
import type { SwapState } from './swapon';

function main(argv: string[]): number {
  const names = argv.filter((a) => !a.startsWith('-'));
  const all = argv.includes('-a') || argv.includes('--all');
  if (!all && names.length === 0) {
    process.stderr.write("swapoff: bad usage\nTry 'swapoff --help' for more information.\n");
    return 1;
  }
  updateState<SwapState>('swap', { areas: [] }, (state) => {
    state.areas = all ? [] : state.areas.filter((a) => !names.includes(a.name));
  });
  return 0;
}

process.exitCode = main(process.argv.slice(2));
