/**
 * The lab's block in a hosts file: load balancer DNS names mapped to their loopback addresses, so
 * kubeha's clients (and kubeadm, curl, kubectl on the machine) resolve them like AWS's DNS would.
 * The block sits between marker lines; every other line of the file is left exactly as it was.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, stat, unlink, writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';

/** The first line of the lab's block. */
export const HOSTS_BLOCK_BEGIN = '# kubeha-lab begin';
/** The last line of the lab's block. */
export const HOSTS_BLOCK_END = '# kubeha-lab end';

/** One line of the block: an address and the names that resolve to it. */
export interface HostsEntry {
  address: string;
  names: string[];
}

function markers(label?: string): { begin: string; end: string } {
  const suffix = label ? ` ${label}` : '';
  return { begin: `${HOSTS_BLOCK_BEGIN}${suffix}`, end: `${HOSTS_BLOCK_END}${suffix}` };
}

/**
 * The file's text with the block replaced by `entries` (appended when there was none), or removed
 * when `entries` is empty. Lines outside the block are kept byte for byte.
 */
export function withHostsBlock(content: string, entries: readonly HostsEntry[], label?: string): string {
  const { begin, end } = markers(label);
  const lines = content.split('\n');
  // A file that ends with a newline splits into a last empty string: keep it out of the search.
  const trailingNewline = lines.length > 0 && lines[lines.length - 1] === '';
  if (trailingNewline) lines.pop();
  const start = lines.findIndex((l) => l.trimEnd() === begin);
  const stop = start < 0 ? -1 : lines.findIndex((l, i) => i > start && l.trimEnd() === end);
  const block = entries.length === 0 ? [] : [begin, ...entries.map((e) => `${e.address} ${e.names.join(' ')}`), end];
  if (start >= 0) {
    // A begin marker without its end (a crash mid-edit by hand) loses only the marker line itself.
    lines.splice(start, stop >= 0 ? stop - start + 1 : 1, ...block);
  } else {
    lines.push(...block);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/**
 * Rewrites the file atomically (a temporary file in the same folder, renamed over it), keeping its
 * mode. Where the file is a bind mount (containers often mount /etc/hosts), rename cannot replace
 * it: then the text is written in place. Returns false when nothing had to change.
 */
export async function writeHostsBlock(file: string, entries: readonly HostsEntry[], label?: string): Promise<boolean> {
  let content = '';
  let mode = 0o644;
  try {
    content = await readFile(file, 'utf8');
    mode = (await stat(file)).mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const next = withHostsBlock(content, entries, label);
  if (next === content) return false;
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.kubeha-lab-${randomBytes(6).toString('hex')}`);
  await writeFile(temp, next, { mode });
  // writeFile's mode passes through the umask: set it exactly.
  await chmod(temp, mode);
  try {
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EBUSY' && code !== 'EXDEV' && code !== 'EPERM') throw err;
    await writeFile(file, next);
  }
  return true;
}

/** Removes the lab's block from the file; returns false when there was none. */
export async function removeHostsBlock(file: string, label?: string): Promise<boolean> {
  try {
    return await writeHostsBlock(file, [], label);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
