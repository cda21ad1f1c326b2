/**
 * POSIX shell quoting and the command lines kubeha sends to hosts. Pure functions: easy to test,
 * and the one place that decides what appears in a host's process list.
 */

/** Quotes a string as one POSIX shell word (single quotes; embedded quotes as `'\''`). */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The first line the wrapper writes to stderr: a record separator (0x1e, never in normal text),
 * then the process group id of the command, so cancellation can kill the whole group.
 */
export const PGID_MARKER = '\u001ekubeha:pgid=';

/**
 * Wraps a command so that it first reports its process group on stderr, then replaces itself with
 * `sh -c <command>`. sshd starts every exec request in a new session (setsid), so the group holds
 * the command and all its children; killing the group is how cancellation stops the remote work
 * (OpenSSH leaves a command running when its channel closes).
 */
export function withPgidReport(command: string): string {
  // Field 5 of /proc/PID/stat is the process group; the command name of a shell has no spaces.
  return `read -r _ _ _ _ g _ </proc/$$/stat; printf '${PGID_MARKER}%s\\n' "$g" >&2; exec sh -c ${shellQuote(command)}`;
}

/** Runs `script` through `sudo -n -- sh -c` when `sudo` is true, as is otherwise. */
export function asSuperuser(script: string, sudo: boolean): string {
  return sudo ? `sudo -n -- sh -c ${shellQuote(script)}` : script;
}

/**
 * A script that stops a process group: TERM, up to 3 s of grace for clean-up handlers, then KILL.
 * Uses `kill -SIG -PGID` without `--`, the form both dash and bash accept. "Alive" ignores zombies
 * (orphans wait for init to reap them) when `ps` is there to tell.
 */
export function killGroupScript(pgid: number): string {
  if (!Number.isInteger(pgid) || pgid <= 1) throw new Error(`refusing to kill process group ${pgid}`);
  const alive =
    `if command -v ps >/dev/null 2>&1; then ps -eo pgid=,stat= | awk '$1 == ${pgid} && $2 !~ /^Z/ { found = 1 } END { exit !found }'; ` +
    `else kill -0 -${pgid} 2>/dev/null; fi`;
  return [
    `kill -TERM -${pgid} 2>/dev/null || exit 0`,
    `i=0; while [ "$i" -lt 30 ] && { ${alive}; }; do sleep 0.1; i=$((i+1)); done`,
    `kill -KILL -${pgid} 2>/dev/null; exit 0`,
  ].join('; ');
}

/** The exit code {@link readFileScript} uses for "no such file": distinct from cat's own failures. */
export const MISSING_FILE_EXIT = 44;

/** Prints a file, or exits {@link MISSING_FILE_EXIT} when nothing is at that path. */
export function readFileScript(path: string): string {
  const p = shellQuote(path);
  return `[ -e ${p} ] || exit ${MISSING_FILE_EXIT}; exec cat -- ${p}`;
}

/**
 * Writes stdin to `path` atomically: a temp file beside the target (same file system, so `mv`
 * is a rename), created under umask 077 so the content is never readable by others, then given
 * its final mode and moved into place. Missing parent directories are created 0755.
 */
export function writeFileScript(path: string, mode: number): string {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new Error(`invalid file mode ${mode}`);
  const p = shellQuote(path);
  const octal = mode.toString(8).padStart(4, '0');
  return [
    'set -e',
    `d=$(dirname -- ${p})`,
    '(umask 022; mkdir -p -- "$d")',
    'umask 077',
    `t=$(mktemp -- ${shellQuote(`${path}.kubeha.XXXXXX`)})`,
    `trap 'rm -f -- "$t"' EXIT`,
    'cat > "$t"',
    `chmod ${octal} -- "$t"`,
    `mv -f -- "$t" ${p}`,
    'trap - EXIT',
  ].join('\n');
}
