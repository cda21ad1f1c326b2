/** Lab `apt-mark`: hold, unhold and showhold, with apt-mark's messages. */
import { parseAptArgs } from './aptArgs';
import { updateState } from './labState';
import { availableVersions, readPackages, type PackagesState } from './packages';

function main(argv: string[]): number {
  const { words } = parseAptArgs(argv);
  const [verb, ...names] = words;
  const state = readPackages();
  if (verb === 'showhold' || verb === 'showheld') {
    for (const name of [...state.held].sort()) process.stdout.write(`${name}\n`);
    return 0;
  }
  if (verb !== 'hold' && verb !== 'unhold') {
    process.stderr.write(`E: Invalid operation ${verb ?? ''}\n`);
    return 100;
  }
  if (names.length === 0) {
    process.stderr.write('E: No packages found\n');
    return 100;
  }
  const known = new Set([...Object.keys(state.installed), ...availableVersions(state).map((c) => c.name)]);
  for (const name of names) {
    if (!known.has(name)) {
      process.stderr.write(`E: Unable to locate package ${name}\n`);
      return 100;
    }
  }
  updateState<PackagesState>('packages', state, (current) => {
    for (const name of names) {
      const held = current.held.includes(name);
      if (verb === 'hold') {
        process.stdout.write(held ? `${name} was already set on hold.\n` : `${name} set on hold.\n`);
        if (!held) current.held.push(name);
      } else {
        process.stdout.write(held ? `Canceled hold on ${name}.\n` : `${name} was already not on hold.\n`);
        current.held = current.held.filter((h) => h !== name);
      }
    }
  });
  return 0;
}

process.exitCode = main(process.argv.slice(2));
