/**
 * What a run is about, read from its input before validation (a bad input still gets a readable
 * subject in the progress query and the Web UI): names only, at most 63 characters.
 */

/** The string at `path` in an input not yet validated, or undefined when there is none. */
export function nameIn(raw: unknown, ...path: string[]): string | undefined {
  let value: unknown = raw;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = Reflect.get(value, key);
  }
  return typeof value === 'string' ? value.slice(0, 63) : undefined;
}

/** `cluster <clusterName>` of an input that names one cluster. */
export function clusterSubject(raw: unknown): string {
  const name = nameIn(raw, 'clusterName');
  return name !== undefined ? `cluster ${name}` : 'cluster (unnamed)';
}

/** The west/east pair an input names ('?' for a missing name). */
export function pairOf(raw: unknown): { west: string; east: string } {
  return { west: nameIn(raw, 'west', 'name') ?? '?', east: nameIn(raw, 'east', 'name') ?? '?' };
}
