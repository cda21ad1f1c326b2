/**
 * Lab `apt-cache`: `madison pkg...` and `policy [pkg...]` in apt's formats, from the packages apt
 * knows on this host (Debian's, and the pkgs.k8s.io repository fetched by `apt-get update`).
 */
import { parseAptArgs } from './aptArgs';
import { DEBIAN_SOURCE, readPackages, sourceLines, versionsOf } from './packages';

function madison(names: string[]): number {
  const state = readPackages();
  for (const name of names) {
    for (const c of versionsOf(name, state)) process.stdout.write(`${name.padStart(10)} | ${c.version} | ${c.source}\n`);
  }
  return 0;
}

function policy(names: string[]): number {
  const state = readPackages();
  if (names.length === 0) {
    const lines = ['Package files:', ' 100 /var/lib/dpkg/status', '     release a=now', ` 500 ${DEBIAN_SOURCE.replace(' Packages', '')} Packages`];
    for (const source of sourceLines()) if (source.url in state.lists) lines.push(` 500 ${source.url.replace(/\/$/, '')}  Packages`);
    lines.push('Pinned packages:');
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  }
  for (const name of names) {
    const versions = versionsOf(name, state);
    const installed = state.installed[name];
    if (versions.length === 0 && installed === undefined) continue;
    const lines = [`${name}:`, `  Installed: ${installed ?? '(none)'}`, `  Candidate: ${versions[0]?.version ?? installed ?? '(none)'}`, '  Version table:'];
    let installedListed = false;
    for (const c of versions) {
      const mine = c.version === installed;
      installedListed ||= mine;
      lines.push(`${mine ? ' *** ' : '     '}${c.version} 500`, `        500 ${c.source}`);
      if (mine) lines.push('        100 /var/lib/dpkg/status');
    }
    if (installed !== undefined && !installedListed) lines.push(` *** ${installed} 100`, '        100 /var/lib/dpkg/status');
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return 0;
}

function main(argv: string[]): number {
  const { words } = parseAptArgs(argv);
  const [verb, ...names] = words;
  if (verb === 'madison') return madison(names);
  if (verb === 'policy') return policy(names);
  process.stderr.write(`E: Invalid operation ${verb ?? ''}\n`);
  return 100;
}

process.exitCode = main(process.argv.slice(2));
