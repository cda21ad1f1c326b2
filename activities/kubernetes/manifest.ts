/**
 * Reading and parsing manifests: every YAML document of a file, `kind: List` flattened, each object
 * checked for what server-side apply needs. Errors name the document (and line) so that a person
 * finds it in the file.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, parseAllDocuments } from 'yaml';
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { ManifestSource } from '../types';
import type { KubeObject } from './client';

/** Fetches a manifest URL's text. */
export type FetchManifest = (url: string) => Promise<string>;

/** One object of a manifest and where it was. */
export interface ManifestObject {
  object: KubeObject;
  /** e.g. `document 3 (line 41)` or `document 2 (line 7), item 4`. */
  where: string;
}

/** The default {@link FetchManifest}: http(s) GET with a timeout. */
export function fetchWithTimeout(timeoutMs = 30_000): FetchManifest {
  return async (url) => {
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
    } catch (err) {
      throw kubehaFailure({
        type: ErrorType.Unreachable,
        message: `cannot fetch manifest ${url}: ${(err as Error).message}`,
        retryable: true,
        hint: 'the worker must reach the manifest URL (proxy, DNS, firewall); or use a file source',
      });
    }
    if (!response.ok) {
      const transient = response.status === 429 || response.status >= 500;
      throw kubehaFailure({
        type: transient ? ErrorType.Unreachable : ErrorType.InvalidInput,
        message: `fetching manifest ${url} answered HTTP ${response.status}`,
        retryable: transient,
        hint: transient ? 'the server failed transiently; a retry usually helps' : 'check the URL (version, path)',
      });
    }
    return response.text();
  };
}

/** Reads the manifest text of a source; `origin` names it in messages. */
export async function readManifest(source: ManifestSource, fetchManifest: FetchManifest): Promise<{ text: string; origin: string }> {
  if ('inline' in source) return { text: source.inline, origin: 'inline manifest' };
  if ('url' in source) {
    if (!/^https?:\/\//.test(source.url)) {
      throw kubehaFailure({
        type: ErrorType.InvalidInput,
        message: `manifest url ${source.url} is not http(s)`,
        retryable: false,
        hint: 'use an http(s) URL, or a file source for a path on the worker',
      });
    }
    return { text: await fetchManifest(source.url), origin: source.url };
  }
  try {
    return { text: await readFile(source.file, 'utf8'), origin: source.file };
  } catch (err) {
    throw kubehaFailure({
      type: ErrorType.InvalidInput,
      message: `cannot read manifest file ${source.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      retryable: false,
      hint: 'the file must exist on the worker host and be readable by the worker user',
    });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What is missing for server-side apply, or undefined when the object is usable. */
function problemOf(value: unknown): string | undefined {
  if (!isRecord(value)) return `is a ${Array.isArray(value) ? 'sequence' : typeof value}, not an object`;
  const missing: string[] = [];
  if (typeof value.apiVersion !== 'string' || value.apiVersion === '') missing.push('apiVersion');
  if (typeof value.kind !== 'string' || value.kind === '') missing.push('kind');
  const metadata = value.metadata;
  if (!isRecord(metadata) || typeof metadata.name !== 'string' || metadata.name === '') missing.push('metadata.name');
  return missing.length > 0 ? `has no ${missing.join(', ')}` : undefined;
}

function describe(value: unknown): string {
  if (!isRecord(value)) return '';
  const name = isRecord(value.metadata) && typeof value.metadata.name === 'string' ? value.metadata.name : undefined;
  const kind = typeof value.kind === 'string' ? value.kind : undefined;
  const label = [kind, name].filter(Boolean).join(' ');
  return label ? ` (${label})` : '';
}

/** A `kind: List` (or `FooList`) holding `items`, as `kubectl get -o yaml` prints. */
function isList(value: unknown): value is { items: unknown[] } {
  return isRecord(value) && typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items);
}

/**
 * Parses every document of `text`. Empty documents are skipped, lists flattened; any YAML error or
 * object without apiVersion, kind or metadata.name fails the whole manifest (InvalidInput), naming
 * every bad document, before anything is applied.
 */
export function parseManifest(text: string, origin: string): ManifestObject[] {
  const lineCounter = new LineCounter();
  // An empty stream comes back as an empty array-like, which iterates like any other.
  const docs = [...parseAllDocuments(text, { lineCounter })];
  const objects: ManifestObject[] = [];
  const problems: string[] = [];
  docs.forEach((doc, index) => {
    // The line of the object's first key (not of the `---` before it): where a person looks.
    const start = doc.contents?.range[0] ?? doc.range[0];
    const where = `document ${index + 1} (line ${lineCounter.linePos(start).line})`;
    if (doc.errors.length > 0) {
      problems.push(`${where} is not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
      return;
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return;
    const entries = isList(value) ? value.items.map((item, i) => ({ item, where: `${where}, item ${i + 1}` })) : [{ item: value, where }];
    for (const { item, where: at } of entries) {
      const problem = problemOf(item);
      if (problem) problems.push(`${at}${describe(item)} ${problem}`);
      else objects.push({ object: item as KubeObject, where: at });
    }
  });
  if (problems.length > 0) {
    throw kubehaFailure({
      type: ErrorType.InvalidInput,
      message: `${origin}: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`,
      retryable: false,
      hint: 'every document needs apiVersion, kind and metadata.name (generateName cannot be applied); fix the manifest',
      details: { problems: problems.length },
    });
  }
  return objects;
}
