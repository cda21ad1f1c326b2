/**
 * Lab `swapon`: `--show` lists the host's swap areas (`swap.json`; a lab host has none unless a
 * test gives it some). It shadows the real swapon so that a lab host never reports, or switches
 * off, the swap of the machine the lab runs on.
 */
import { readState } from './labState';

/** What `swap.json` holds. */
export interface SwapState {
  areas: { name: string; type: string; size: string; used: string; prio: number }[];
}

function main(argv: string[]): number {
  if (!argv.some((a) => a === '--show' || a.startsWith('--show=') || a === '-s' || a === '--summary')) {
    process.stderr.write('swapon: the lab only shows swap areas (--show)\n');
    return 1;
  }
  const { areas } = readState<SwapState>('swap', { areas: [] });
  if (areas.length === 0) return 0;
  const lines = argv.includes('--noheadings') ? [] : ['NAME      TYPE SIZE USED PRIO'];
  for (const a of areas) lines.push(`${a.name.padEnd(9)} ${a.type} ${a.size.padStart(4)} ${a.used.padStart(4)} ${String(a.prio).padStart(4)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
