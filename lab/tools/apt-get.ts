/**
 * Lab `apt-get`: `update` (fetches the index of each pkgs.k8s.io repository listed in the host's
 * /etc/apt/sources.list.d, checking its signed-by keyring) and `install [-y] pkg[=version]...`
 * with apt's rules and messages: unknown packages and versions, already installed packages,
 * dependencies, held packages (`--allow-change-held-packages`), downgrades (`--allow-downgrades`),
 * and exit code 100 on errors. Installing records the package and runs what its maintainer
 * scripts would do that kubeha relies on (directories, systemd units).
 */
import { mkdirSync } from 'node:fs';
import { type AptArgs, parseAptArgs } from './aptArgs';
import { compareDebVersions } from './debVersion';
import { updateState } from './labState';
import { type Candidate, keyringUsable, kubernetesMinor, type PackagesState, readPackages, sourceLines, versionsOf } from './packages';
import { startUnit, updateUnit } from './units';

class AptError extends Error {
  constructor(
    message: string,
    readonly code = 100,
  ) {
    super(message);
  }
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function update(): void {
  const state = readPackages();
  const lists: Record<string, string> = {};
  const errors: string[] = [];
  say('Hit:1 http://deb.debian.org/debian bookworm InRelease');
  let n = 1;
  let fetched = 0;
  for (const source of sourceLines()) {
    n += 1;
    const minor = kubernetesMinor(source.url);
    const where = source.suite === '/' ? `${source.url.replace(/\/$/, '')}  InRelease` : `${source.url} ${source.suite} InRelease`;
    if (!minor) {
      const host = /^[a-z]+:\/\/([^/]+)/.exec(source.url)?.[1] ?? source.url;
      say(`Err:${n} ${where}\n  Could not resolve '${host}'`);
      errors.push(`E: Failed to fetch ${source.url}dists/${source.suite}/InRelease  Could not resolve '${host}'`);
      continue;
    }
    if (!keyringUsable(source.signedBy)) {
      say(`Err:${n} ${where}\n  The following signatures couldn't be verified because the public key is not available: NO_PUBKEY 234654DA9A296436`);
      errors.push(`E: The repository '${source.url} ${source.suite} InRelease' is not signed.`);
      continue;
    }
    const known = state.lists[source.url] === source.line;
    say(known ? `Hit:${n} ${where}` : `Get:${n} ${where} [1,186 B]`);
    if (!known) {
      n += 1;
      say(`Get:${n} ${source.url.replace(/\/$/, '')}  Packages [4,865 B]`);
      fetched += 6051;
    }
    lists[source.url] = source.line;
  }
  updateState<PackagesState>('packages', state, (current) => {
    current.lists = lists;
  });
  say(`Fetched ${fetched.toLocaleString('en-US')} B in 0s (${fetched.toLocaleString('en-US')} B/s)`);
  say('Reading package lists...');
  if (errors.length > 0)
    throw new AptError([...errors, 'E: Some index files failed to download. They have been ignored, or old ones used instead.'].join('\n'));
}

/** One package apt will set to a version. */
interface Change {
  candidate: Candidate;
  from?: string;
}

function resolve(request: string, state: PackagesState): Candidate {
  const [name, version] = request.split('=');
  const versions = versionsOf(name, state);
  if (versions.length === 0) {
    const installed = state.installed[name];
    if (installed !== undefined && (version === undefined || version === installed))
      return { name, version: installed, source: '/var/lib/dpkg/status', depends: [] };
    throw new AptError(`E: Unable to locate package ${name}`);
  }
  if (version === undefined) return versions[0];
  const found = versions.find((c) => c.version === version);
  if (!found) throw new AptError(`E: Version '${version}' for '${name}' was not found`);
  return found;
}

/** What installing a package does on the host besides recording it (its maintainer scripts). */
function afterInstall(name: string): void {
  if (name === 'containerd') {
    mkdirSync('/etc/containerd', { recursive: true });
    // Debian's postinst enables and starts the service.
    updateUnit('containerd', (u) => {
      u.enabled = true;
    });
    startUnit('containerd');
  }
  if (name === 'kubelet') mkdirSync('/etc/kubernetes/manifests', { recursive: true });
}

function install(args: AptArgs, requests: string[]): void {
  say('Reading package lists...');
  say('Building dependency tree...');
  say('Reading state information...');
  const state = readPackages();
  const wanted = new Map<string, Change>();
  const add = (candidate: Candidate, explicit: boolean) => {
    if (wanted.has(candidate.name)) return;
    const from = state.installed[candidate.name];
    if (from === candidate.version) {
      if (explicit) say(`${candidate.name} is already the newest version (${candidate.version}).`);
      return;
    }
    // A dependency already installed stays as it is.
    if (!explicit && from !== undefined) return;
    wanted.set(candidate.name, { candidate, from });
    for (const dep of candidate.depends) add(resolve(dep, state), false);
  };
  for (const request of requests) add(resolve(request, state), true);
  const changes = [...wanted.values()];
  const fresh = changes
    .filter((c) => c.from === undefined)
    .map((c) => c.candidate.name)
    .sort();
  const upgraded = changes
    .filter((c) => c.from !== undefined && compareDebVersions(c.candidate.version, c.from) > 0)
    .map((c) => c.candidate.name)
    .sort();
  const downgraded = changes
    .filter((c) => c.from !== undefined && compareDebVersions(c.candidate.version, c.from) < 0)
    .map((c) => c.candidate.name)
    .sort();
  const heldChanged = changes
    .filter((c) => state.held.includes(c.candidate.name))
    .map((c) => c.candidate.name)
    .sort();
  if (heldChanged.length > 0) say(`The following held packages will be changed:\n  ${heldChanged.join(' ')}`);
  if (fresh.length > 0) say(`The following NEW packages will be installed:\n  ${fresh.join(' ')}`);
  if (upgraded.length > 0) say(`The following packages will be upgraded:\n  ${upgraded.join(' ')}`);
  if (downgraded.length > 0) say(`The following packages will be DOWNGRADED:\n  ${downgraded.join(' ')}`);
  say(`${upgraded.length} upgraded, ${fresh.length} newly installed, ${downgraded.length} downgraded, 0 to remove and 0 not upgraded.`);
  if (changes.length === 0) return;
  if (heldChanged.length > 0 && !args.flags.has('allow-change-held-packages'))
    throw new AptError('E: Held packages were changed and -y was used without --allow-change-held-packages.');
  if (downgraded.length > 0 && !args.flags.has('allow-downgrades'))
    throw new AptError('E: Packages were downgraded and -y was used without --allow-downgrades.');
  if (!args.flags.has('yes')) {
    say('Do you want to continue? [Y/n] Abort.');
    throw new AptError('', 1);
  }
  if (args.flags.has('simulate')) {
    for (const c of changes) say(`Inst ${c.candidate.name} (${c.candidate.version} ${c.candidate.source})`);
    return;
  }
  updateState<PackagesState>('packages', state, (current) => {
    for (const c of changes) current.installed[c.candidate.name] = c.candidate.version;
  });
  for (const c of changes) {
    say(`${c.from === undefined ? 'Selecting previously unselected package' : 'Preparing to unpack'} ${c.candidate.name}.`);
    say(`Setting up ${c.candidate.name} (${c.candidate.version}) ...`);
    afterInstall(c.candidate.name);
  }
}

function main(argv: string[]): number {
  const args = parseAptArgs(argv);
  const [verb, ...rest] = args.words;
  try {
    if (verb === 'update') update();
    else if (verb === 'install') install(args, rest);
    else throw new AptError(verb ? `E: Invalid operation ${verb}` : 'E: No operation given (the lab emulates update and install)');
    return 0;
  } catch (err) {
    if (!(err instanceof AptError)) throw err;
    if (err.message) process.stderr.write(`${err.message}\n`);
    return err.code;
  }
}

process.exitCode = main(process.argv.slice(2));
