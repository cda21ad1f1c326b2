/**
 * Searching recorded text for actual secret values: Temporal histories as the CLI prints them,
 * worker logs, command logs. A secret can leak in more shapes than its own text: inside a base64
 * string (a payload, a kubeconfig's `*-data` field, at any byte offset), as a PEM whose line
 * breaks were escaped into JSON, or as a kubeconfig field decoded back to PEM. {@link secretForms}
 * lists the substrings that give each of those away, and {@link findSecrets} looks for them.
 */
import { execFileSync } from 'node:child_process';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporalCliPath } from '../../lib/paths';

/** One secret to look for; `label` names it in findings (the value itself is never reported). */
export interface SecretValue {
  label: string;
  value: string;
  /** Shortest form searched. Default 16: shorter ones match by chance. A control value may set less. */
  minLength?: number;
}

/** One substring that gives a secret away, with the shape it stands for. */
export interface SecretForm {
  form: string;
  text: string;
}

/** Where a secret was found (no value: a finding must not leak the secret into test output). */
export interface SecretFinding {
  source: string;
  label: string;
  form: string;
}

/** Shorter forms than this are not searched by default: they would match by chance. */
const MIN_FORM_LENGTH = 16;
/** PEM body lines shorter than this (the last line of a block) are too short to be telling. */
const MIN_PEM_LINE = 24;

/**
 * The base64 text of `bytes` as it appears inside ANY larger base64 string, whatever the byte
 * offset the secret starts at: for each of the three alignments, the characters that depend on the
 * secret's bytes alone (neither on what precedes nor on what follows).
 */
export function base64Cores(bytes: Buffer, minLength = MIN_FORM_LENGTH): string[] {
  const cores: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const padded = Buffer.concat([Buffer.alloc(offset), bytes]);
    // Whole 3-byte groups only: the last partial group depends on the bytes that follow.
    const whole = padded.subarray(0, padded.length - (padded.length % 3));
    // Leading characters carrying bits of the bytes before the secret: none, 2 or 3.
    const core = whole.toString('base64').slice([0, 2, 3][offset]);
    if (core.length >= minLength) cores.push(core);
  }
  return cores;
}

/** The lines of a PEM's base64 bodies (headers left out: every PEM shares them). */
function pemBodyLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length >= MIN_PEM_LINE && !l.startsWith('-----') && /^[A-Za-z0-9+/=]+$/.test(l));
}

/**
 * Every substring that gives `value` away: the value itself, each line of a PEM body, its base64 at
 * the three alignments, and when the value is itself base64 (a kubeconfig's `client-key-data`), the
 * same forms of what it decodes to.
 */
export function secretForms(value: string, minLength = MIN_FORM_LENGTH, decodeBase64 = true): SecretForm[] {
  const trimmed = value.trim();
  const forms: SecretForm[] = [];
  if (trimmed.length >= minLength && !trimmed.includes('\n')) forms.push({ form: 'raw', text: trimmed });
  for (const line of pemBodyLines(trimmed)) forms.push({ form: 'PEM line', text: line });
  for (const core of base64Cores(Buffer.from(trimmed, 'utf8'), minLength)) forms.push({ form: 'base64', text: core });
  if (decodeBase64 && /^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) && trimmed.length % 4 === 0) {
    const decoded = Buffer.from(trimmed, 'base64').toString('utf8');
    if (decoded.includes('-----BEGIN')) forms.push(...secretForms(decoded, minLength, false).map((f) => ({ form: `decoded ${f.form}`, text: f.text })));
  }
  const seen = new Set<string>();
  return forms.filter((f) => !seen.has(f.text) && seen.add(f.text));
}

/** Looks for every form of every secret in every source; an empty list means none leaked. */
export function findSecrets(sources: { source: string; texts: string[] }[], secrets: SecretValue[]): SecretFinding[] {
  // One string per source (NUL never occurs in the forms, so no match spans two texts).
  const joined = sources.map(({ source, texts }) => ({ source, text: texts.join('\u0000') }));
  const findings: SecretFinding[] = [];
  for (const secret of secrets) {
    const minLength = secret.minLength ?? MIN_FORM_LENGTH;
    const forms = secretForms(secret.value, minLength);
    if (forms.length === 0) throw new Error(`secret "${secret.label}" has no searchable form (shorter than ${minLength} characters)`);
    for (const { source, text } of joined) {
      const hit = forms.find((f) => text.includes(f.text));
      if (hit) findings.push({ source, label: secret.label, form: hit.form });
    }
  }
  return findings;
}

/** Every string in a JSON document, plus the text of those that are base64 (payloads, search attributes). */
export function jsonTexts(doc: unknown, out: string[] = []): string[] {
  if (typeof doc === 'string') {
    out.push(doc);
    if (doc.length >= 8 && /^[A-Za-z0-9+/]+={0,2}$/.test(doc)) out.push(Buffer.from(doc, 'base64').toString('latin1'));
  } else if (Array.isArray(doc)) doc.forEach((d) => jsonTexts(d, out));
  else if (doc && typeof doc === 'object') Object.values(doc).forEach((d) => jsonTexts(d, out));
  return out;
}

/** A Temporal server the CLI reaches. */
export interface CliTarget {
  address: string;
  namespace?: string;
}

/** One run's history as `temporal workflow show --output json` prints it, with every string of it. */
export interface RunHistory {
  workflowId: string;
  runId: string;
  workflowType: string;
  events: number;
  texts: string[];
  /** Every payload in it (inputs, results, signals, heartbeat details, failures' encoded attributes). */
  payloads: Payload[];
}

/** The payloads of a history document: every object with `metadata` and `data`, as the CLI prints them (base64). */
export function historyPayloads(doc: unknown, out: Payload[] = []): Payload[] {
  if (Array.isArray(doc)) doc.forEach((d) => historyPayloads(d, out));
  else if (doc && typeof doc === 'object') {
    const o = doc as { metadata?: unknown; data?: unknown };
    if (o.metadata && typeof o.metadata === 'object' && !Array.isArray(o.metadata) && (typeof o.data === 'string' || o.data === undefined)) {
      const metadata = Object.fromEntries(
        Object.entries(o.metadata as Record<string, unknown>)
          .filter(([, v]) => typeof v === 'string')
          .map(([k, v]) => [k, Buffer.from(v as string, 'base64')]),
      );
      if ('encoding' in metadata) out.push({ metadata, data: Buffer.from((o.data as string | undefined) ?? '', 'base64') });
    }
    Object.values(doc).forEach((d) => historyPayloads(d, out));
  }
  return out;
}

/**
 * The texts of the payloads once decoded with kubeha's codec, as a person holding the keys (or the
 * codec server) reads them: the scan then sees what the encryption hides, not only its ciphertext.
 * Payloads the codec does not own (plain search attributes) come back as they were. Throws when an
 * encrypted payload does not open: a scan must not pass on what it could not read.
 */
export async function decodedPayloadTexts(codec: PayloadCodec, payloads: Payload[]): Promise<string[]> {
  const decoded = await codec.decode(payloads);
  return decoded.flatMap((p) => [
    Buffer.from(p.data ?? new Uint8Array()).toString('utf8'),
    ...Object.values(p.metadata ?? {}).map((v) => Buffer.from(v).toString('utf8')),
  ]);
}

/**
 * The history of every run `temporal workflow list` finds (all of them, or those matching `query`),
 * each through `temporal workflow show --output json`: what an operator with the CLI sees.
 */
export function workflowHistories(target: CliTarget, query?: string): RunHistory[] {
  const cli = temporalCliPath();
  const address = ['--address', target.address, '--namespace', target.namespace ?? 'default'];
  const listArgs = ['workflow', 'list', '--output', 'json', ...address, ...(query ? ['--query', query] : [])];
  const list = JSON.parse(execFileSync(cli, listArgs, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }) || '[]') as {
    execution: { workflowId: string; runId: string };
    type?: { name?: string };
  }[];
  return list.map(({ execution, type }) => {
    const shown = JSON.parse(
      execFileSync(cli, ['workflow', 'show', '--workflow-id', execution.workflowId, '--run-id', execution.runId, '--output', 'json', ...address], {
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
      }),
    ) as { events?: unknown[] };
    return {
      workflowId: execution.workflowId,
      runId: execution.runId,
      workflowType: type?.name ?? '',
      events: shown.events?.length ?? 0,
      texts: jsonTexts(shown),
      payloads: historyPayloads(shown),
    };
  });
}
