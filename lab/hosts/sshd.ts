/**
 * The lab host's OpenSSH server: its keys, its configuration (SetEnv for the lab tools, a forced
 * command that logs every command line) and starting it inside the host's namespace.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ProcessRef } from '../tools/processes';
import { isAlive } from '../tools/processes';
import type { HostCgroup } from './hostCgroup';
import type { LabHostPaths } from './layout';
import { spawnInNamespace } from './namespace';

const run = promisify(execFile);

/** Debian's sshd. */
export const SSHD = '/usr/sbin/sshd';
/** Debian's SFTP server: a forced command cannot run sshd's internal one. */
const SFTP_SERVER = '/usr/lib/openssh/sftp-server';

/** The SHA-256 fingerprint of a public key file, as `ssh-keygen -lf` prints it. */
export async function fingerprintOf(publicKeyFile: string): Promise<string> {
  const { stdout } = await run('ssh-keygen', ['-lf', publicKeyFile]);
  const match = /\b(SHA256:[A-Za-z0-9+/]+)/.exec(stdout);
  if (!match) throw new Error(`ssh-keygen -lf printed no SHA256 fingerprint: ${stdout}`);
  return match[1];
}

/** Makes an ed25519 key pair at `file` unless one is there: the lab keeps its identities across restarts. */
export async function ensureKey(file: string, comment: string): Promise<void> {
  if (existsSync(file) && existsSync(`${file}.pub`)) return;
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
}

/**
 * The forced command: appends the command line (with a UTC timestamp) to commands.log, then runs
 * it with the user's shell, as sshd would. The lab's PATH is set again in front of the command:
 * a shell started by sshd may read rc files (bash reads ~/.bashrc) that put other folders first.
 */
export function sessionWrapper(commandsLog: string): string {
  const log = `'${commandsLog.replace(/'/g, `'\\''`)}'`;
  return `#!/bin/sh
# kubeha lab: sshd's ForceCommand (see lab/hosts/sshd.ts).
PATH=$KUBEHA_LAB_PATH; export PATH
ts=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
if [ -n "\${SSH_ORIGINAL_COMMAND+set}" ]; then
  printf '%s\\n' "$SSH_ORIGINAL_COMMAND" | awk -v ts="$ts" 'NR == 1 { print "[" ts "] " $0; next } { print "    " $0 }' >> ${log}
  exec "\${SHELL:-/bin/sh}" -c "PATH=\\$KUBEHA_LAB_PATH; export PATH
$SSH_ORIGINAL_COMMAND"
fi
printf '[%s] (interactive session)\\n' "$ts" >> ${log}
# Not a login shell: /etc/profile would put the machine's PATH before the lab tools.
exec "\${SHELL:-/bin/sh}" -i
`;
}

/** What the sshd configuration is made from. */
export interface SshdSettings {
  address: string;
  port: number;
  hostName: string;
  /** The lab tools' launchers (first on PATH). */
  toolsBin: string;
  /** The compiled lab tools (`KUBEHA_LAB_JS_DIR`). */
  toolsJsDir: string;
  /** More lab tool folders, on PATH right after `toolsBin` (lab/kube/bin: the etcdctl wrapper). */
  extraBin?: string[];
}

function quoted(value: string): string {
  if (/["\n]/.test(value)) throw new Error(`a lab path may not hold quotes or newlines: ${value}`);
  return `"${value}"`;
}

/** sshd_config of a lab host. */
export function sshdConfig(paths: LabHostPaths, settings: SshdSettings): string {
  const labPath = `${[settings.toolsBin, ...(settings.extraBin ?? [])].join(':')}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
  const env: Record<string, string> = {
    PATH: labPath,
    KUBEHA_LAB_PATH: labPath,
    KUBEHA_LAB_HOST: settings.hostName,
    KUBEHA_LAB_DIR: paths.hostLabDir,
    KUBEHA_LAB_STATE: paths.stateFile,
    KUBEHA_LAB_BIN: settings.toolsBin,
    KUBEHA_LAB_JS_DIR: settings.toolsJsDir,
    KUBEHA_LAB_NODE: process.execPath,
    // gpg keeps its home here, not in the machine's /root/.gnupg.
    GNUPGHOME: path.join(paths.hostLabDir, 'gnupg'),
  };
  return [
    `ListenAddress ${settings.address}:${settings.port}`,
    `HostKey ${quoted(paths.hostKey)}`,
    `PidFile ${quoted(path.join(paths.hostLabDir, 'sshd.pid'))}`,
    `AuthorizedKeysFile ${quoted(paths.authorizedKeys)}`,
    'StrictModes no',
    'UsePAM no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'LogLevel VERBOSE',
    // Tests and parallel activities open many connections at once.
    'MaxStartups 100:30:200',
    'MaxSessions 20',
    `Subsystem sftp ${SFTP_SERVER}`,
    `ForceCommand ${quoted(paths.sessionWrapper)}`,
    `SetEnv ${Object.entries(env)
      .map(([k, v]) => quoted(`${k}=${v}`))
      .join(' ')}`,
    '',
  ].join('\n');
}

/** Writes the host's sshd files (configuration, forced command, authorized key). */
export function writeSshdFiles(paths: LabHostPaths, settings: SshdSettings): void {
  writeFileSync(paths.sshdConfig, sshdConfig(paths, settings), { mode: 0o600 });
  writeFileSync(paths.sessionWrapper, sessionWrapper(paths.commandsLog), { mode: 0o755 });
  chmodSync(paths.sessionWrapper, 0o755);
  writeFileSync(paths.authorizedKeys, readFileSync(`${paths.clientKey}.pub`, 'utf8'), { mode: 0o644 });
}

/** Starts sshd in the host's namespace (and cgroup, when it has one) and waits until it listens. */
export async function startSshd(paths: LabHostPaths, holder: ProcessRef, cgroup?: HostCgroup, timeoutMs = 10_000): Promise<ProcessRef> {
  mkdirSync('/run/sshd', { recursive: true });
  const offset = existsSync(paths.sshdLog) ? statSync(paths.sshdLog).size : 0;
  const sshd = spawnInNamespace(holder, [SSHD, '-D', '-e', '-f', paths.sshdConfig], paths.sshdLog, cgroup);
  const started = Date.now();
  for (;;) {
    const log = readFileSync(paths.sshdLog, 'utf8').slice(offset);
    if (/Server listening on/.test(log)) return sshd;
    if (!isAlive(sshd)) throw new Error(`sshd exited:\n${log.trim()}`);
    if (Date.now() - started > timeoutMs) throw new Error(`sshd did not listen within ${timeoutMs} ms:\n${log.trim()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
