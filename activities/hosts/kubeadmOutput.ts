/**
 * Parsers for what kubeadm prints: the join commands of `kubeadm init` and
 * `kubeadm token create --print-join-command`, a certificate key, a bootstrap token, and
 * `kubeadm certs check-expiration -o json`. Pure functions over text, so each format is tested
 * on fixtures. Error messages never quote the output they reject: it may hold a token or a key.
 */

/** A bootstrap token: `[a-z0-9]{6}.[a-z0-9]{16}` (k8s.io/cluster-bootstrap BootstrapTokenPattern). */
export const TOKEN_PATTERN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;
/** A certificate key: 32 bytes as 64 lowercase hex characters (`kubeadm certs certificate-key`). */
export const CERTIFICATE_KEY_PATTERN = /^[0-9a-f]{64}$/;
/** A CA public key pin as kubeadm prints it: `sha256:` and 64 hex characters. */
export const CA_CERT_HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** Raised when kubeadm's output does not have the expected shape. */
export class KubeadmOutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeadmOutputError';
  }
}

/** One `kubeadm join` command line, parsed. */
export interface JoinCommand {
  /** `host:port` of the API endpoint the command points at. */
  endpoint: string;
  /** The bootstrap token; undefined when kubeadm withheld it (`--skip-token-print`). */
  token?: string;
  /** Every `--discovery-token-ca-cert-hash` value, in order. */
  caCertHashes: string[];
  controlPlane: boolean;
  /** The certificate key; only on control-plane joins of an init with `--upload-certs`. */
  certificateKey?: string;
}

/** The join commands `kubeadm init` printed. */
export interface InitJoinCommands {
  /** Present when init ran with a control-plane endpoint. */
  controlPlane?: JoinCommand;
  worker: JoinCommand;
  /** The first CA hash of the worker command (every command carries the same pins). */
  caCertHash: string;
}

const WITHHELD = '<value withheld>';

/** CRLF and CR to LF, so output captured on any platform parses the same. */
export function normalizeNewlines(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

/**
 * Joins shell continuation lines (`\` at the end of a line) into one logical line each,
 * as a shell would read them.
 */
export function logicalLines(text: string): string[] {
  return normalizeNewlines(text)
    .replace(/\\[ \t]*\n/g, ' ')
    .split('\n');
}

function flagValue(words: string[], index: number, flag: string): { value: string; next: number } {
  const word = words[index];
  if (word.startsWith(`${flag}=`)) return { value: word.slice(flag.length + 1), next: index + 1 };
  const value = words[index + 1];
  if (value === undefined || value.startsWith('--')) throw new KubeadmOutputError(`kubeadm join command: ${flag} has no value`);
  return { value, next: index + 2 };
}

/**
 * Parses one logical `kubeadm join ...` line. Unknown flags are ignored (future kubeadm
 * versions may add some); the endpoint, token and hashes are validated.
 */
export function parseJoinCommand(line: string): JoinCommand {
  // `<value withheld>` is one value with a space in it: make it one word.
  const words = line.replaceAll(WITHHELD, '<withheld>').trim().split(/\s+/);
  const start = words.findIndex((w, i) => w === 'kubeadm' && words[i + 1] === 'join');
  if (start < 0) throw new KubeadmOutputError('not a kubeadm join command');
  const endpoint = words[start + 2];
  if (!endpoint || endpoint.startsWith('--') || !/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(endpoint)) {
    throw new KubeadmOutputError('kubeadm join command: the first argument must be the API endpoint host:port');
  }
  const command: JoinCommand = { endpoint, caCertHashes: [], controlPlane: false };
  for (let i = start + 3; i < words.length;) {
    const word = words[i];
    if (word === '--control-plane') {
      command.controlPlane = true;
      i += 1;
    } else if (word === '--token' || word.startsWith('--token=')) {
      const { value, next } = flagValue(words, i, '--token');
      if (value !== '<withheld>') {
        if (!TOKEN_PATTERN.test(value)) throw new KubeadmOutputError('kubeadm join command: --token is not a bootstrap token ([a-z0-9]{6}.[a-z0-9]{16})');
        command.token = value;
      }
      i = next;
    } else if (word === '--discovery-token-ca-cert-hash' || word.startsWith('--discovery-token-ca-cert-hash=')) {
      const { value, next } = flagValue(words, i, '--discovery-token-ca-cert-hash');
      if (!CA_CERT_HASH_PATTERN.test(value))
        throw new KubeadmOutputError('kubeadm join command: --discovery-token-ca-cert-hash is not "sha256:" and 64 hex characters');
      command.caCertHashes.push(value);
      i = next;
    } else if (word === '--certificate-key' || word.startsWith('--certificate-key=')) {
      const { value, next } = flagValue(words, i, '--certificate-key');
      if (value !== '<withheld>') {
        if (!CERTIFICATE_KEY_PATTERN.test(value)) throw new KubeadmOutputError('kubeadm join command: --certificate-key is not 64 hex characters');
        command.certificateKey = value;
      }
      i = next;
    } else {
      i += 1;
    }
  }
  if (command.caCertHashes.length === 0) throw new KubeadmOutputError('kubeadm join command has no --discovery-token-ca-cert-hash');
  if (command.certificateKey && !command.controlPlane) throw new KubeadmOutputError('kubeadm join command has --certificate-key without --control-plane');
  return command;
}

/**
 * Every `kubeadm join` command in a text, in order (continuations joined). Only lines that START
 * with the command count, so a warning that merely mentions "kubeadm join" is not taken for one.
 */
export function findJoinCommands(text: string): JoinCommand[] {
  return logicalLines(text)
    .filter((line) => /^\s*(sudo\s+)?kubeadm\s+join\s/.test(line))
    .map(parseJoinCommand);
}

/**
 * Parses the output of `kubeadm init`: the control-plane join command (present with a
 * control-plane endpoint) and the worker join command of its success message. Init prints the
 * pair once per bootstrap token; the first pair wins.
 */
export function parseInitOutput(text: string): InitJoinCommands {
  const commands = findJoinCommands(text);
  const worker = commands.find((c) => !c.controlPlane);
  if (!worker) throw new KubeadmOutputError('kubeadm init output has no worker join command: did init finish?');
  const controlPlane = commands.find((c) => c.controlPlane);
  return { controlPlane, worker, caCertHash: worker.caCertHashes[0] };
}

/**
 * Parses `kubeadm token create --print-join-command [--certificate-key K]`: kubeadm prints the
 * join command on one line (it strips the continuations).
 */
export function parsePrintJoinCommand(text: string): JoinCommand {
  const commands = findJoinCommands(text);
  if (commands.length !== 1) {
    throw new KubeadmOutputError(`expected one kubeadm join command from "kubeadm token create --print-join-command", found ${commands.length}`);
  }
  return commands[0];
}

function singleMatch(text: string, pattern: RegExp, what: string, source: string): string {
  const found = normalizeNewlines(text)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => pattern.test(l));
  if (found.length === 0) throw new KubeadmOutputError(`no ${what} in the output of "${source}"`);
  if (new Set(found).size > 1) throw new KubeadmOutputError(`more than one ${what} in the output of "${source}"`);
  return found[0];
}

/** The key printed by `kubeadm certs certificate-key` (one line of 64 hex characters). */
export function parseCertificateKey(text: string): string {
  return singleMatch(text, CERTIFICATE_KEY_PATTERN, 'certificate key (64 hex characters)', 'kubeadm certs certificate-key');
}

/** The token printed by `kubeadm token generate` or `kubeadm token create`. */
export function parseToken(text: string): string {
  return singleMatch(text, TOKEN_PATTERN, 'bootstrap token', 'kubeadm token');
}

/** The public id of a bootstrap token (the part before the dot): safe to show and to put in names. */
export function tokenId(token: string): string {
  if (!TOKEN_PATTERN.test(token)) throw new KubeadmOutputError('not a bootstrap token');
  return token.slice(0, 6);
}

/** The key `kubeadm init phase upload-certs --upload-certs` reports after `[upload-certs] Using certificate key:`. */
export function parseUploadCertsKey(text: string): string {
  const lines = normalizeNewlines(text).split('\n');
  const at = lines.findIndex((l) => l.includes('[upload-certs] Using certificate key:'));
  const key = at >= 0 ? lines[at + 1]?.trim() : undefined;
  if (!key || !CERTIFICATE_KEY_PATTERN.test(key)) throw new KubeadmOutputError('no "[upload-certs] Using certificate key:" line followed by a 64-hex key');
  return key;
}

// ------------------------------------------------------------ certs check-expiration -o json

/** One certificate or CA as `kubeadm certs check-expiration -o json` reports it. */
export interface CertificateExpiration {
  name: string;
  /** ISO time; undefined when the certificate is missing. */
  expiresAt?: string;
  /** Seconds left when kubeadm ran (negative once expired); undefined when missing. */
  residualSeconds?: number;
  externallyManaged: boolean;
  missing: boolean;
  /** The signing CA; absent for root CAs. */
  caName?: string;
}

/** The whole check-expiration report. */
export interface CertificateExpirationInfo {
  certificates: CertificateExpiration[];
  certificateAuthorities: CertificateExpiration[];
}

/**
 * kubeadm 1.30 wrote `residualTime` as a Go time.Duration (nanoseconds); later releases write
 * whole seconds (field ResidualTimeSeconds, same JSON name). No certificate lives 100 000 000 000
 * seconds (3 000 years), while one hour in nanoseconds is already 3.6e12: any magnitude above
 * this in a report means the report is in nanoseconds.
 */
const NANOSECOND_REPORT_THRESHOLD = 1e11;

function entryOf(
  raw: unknown,
  where: string,
): { name: string; expirationDate?: unknown; residualTime?: unknown; externallyManaged?: unknown; missing?: unknown; caName?: unknown } {
  if (!raw || typeof raw !== 'object') throw new KubeadmOutputError(`${where} is not an object`);
  const entry = raw as Record<string, unknown>;
  if (typeof entry.name !== 'string' || entry.name === '') throw new KubeadmOutputError(`${where} has no name`);
  return entry as ReturnType<typeof entryOf>;
}

/** Parses `kubeadm certs check-expiration -o json` (kind CertificateExpirationInfo, output.kubeadm.k8s.io/v1alpha3). */
export function parseCertificateExpiration(text: string): CertificateExpirationInfo {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new KubeadmOutputError(`kubeadm certs check-expiration output is not JSON: ${(err as Error).message}`);
  }
  const obj = doc as Record<string, unknown>;
  if (!obj || obj.kind !== 'CertificateExpirationInfo')
    throw new KubeadmOutputError('kubeadm certs check-expiration output: kind is not CertificateExpirationInfo');
  if (typeof obj.apiVersion !== 'string' || !obj.apiVersion.startsWith('output.kubeadm.k8s.io/')) {
    throw new KubeadmOutputError('kubeadm certs check-expiration output: apiVersion is not output.kubeadm.k8s.io/*');
  }
  const lists = { certificates: obj.certificates ?? [], certificateAuthorities: obj.certificateAuthorities ?? [] };
  for (const [key, list] of Object.entries(lists)) {
    if (!Array.isArray(list)) throw new KubeadmOutputError(`kubeadm certs check-expiration output: ${key} is not a list`);
  }
  const all = [...(lists.certificates as unknown[]), ...(lists.certificateAuthorities as unknown[])].map((e, i) => entryOf(e, `entry ${i}`));
  const nanoseconds = all.some((e) => typeof e.residualTime === 'number' && Math.abs(e.residualTime) >= NANOSECOND_REPORT_THRESHOLD);
  const convert = (raw: unknown, i: number, key: string): CertificateExpiration => {
    const e = entryOf(raw, `${key}[${i}]`);
    const missing = e.missing === true;
    const result: CertificateExpiration = { name: e.name, missing, externallyManaged: e.externallyManaged === true };
    if (typeof e.caName === 'string' && e.caName !== '') result.caName = e.caName;
    if (missing) return result;
    if (typeof e.expirationDate !== 'string' || Number.isNaN(Date.parse(e.expirationDate))) {
      throw new KubeadmOutputError(`${key}[${i}] (${e.name}) has no RFC 3339 expirationDate`);
    }
    if (typeof e.residualTime !== 'number') throw new KubeadmOutputError(`${key}[${i}] (${e.name}) has no numeric residualTime`);
    result.expiresAt = new Date(e.expirationDate).toISOString();
    result.residualSeconds = nanoseconds ? Math.trunc(e.residualTime / 1e9) : e.residualTime;
    return result;
  };
  return {
    certificates: (lists.certificates as unknown[]).map((e, i) => convert(e, i, 'certificates')),
    certificateAuthorities: (lists.certificateAuthorities as unknown[]).map((e, i) => convert(e, i, 'certificateAuthorities')),
  };
}
