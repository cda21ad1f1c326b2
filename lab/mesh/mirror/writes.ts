/**
 * The writes a sync pass makes on the local cluster, through one recorder so that a pass reports
 * what it changed (a pass over an unchanged world reports none) and tests can count them.
 */
import { ApiError, type KubeClient } from '../../kube/client';

/** An object the recorder writes. */
type Named = { metadata: { name: string; namespace?: string } };

/** One write to the local cluster. */
export interface MirrorWrite {
  verb: 'create' | 'update' | 'delete' | 'status';
  kind: string;
  namespace?: string;
  name: string;
}

/** Writes objects through `client` and records each one. */
export class WriteRecorder {
  readonly writes: MirrorWrite[] = [];

  constructor(readonly client: KubeClient) {}

  /** POSTs `object` to `collection`; answers false when it already exists (409). */
  async create<T extends Named>(collection: string, kind: string, object: T): Promise<boolean> {
    try {
      await this.client.create(collection, object);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) return false;
      throw err;
    }
    this.writes.push({ verb: 'create', kind, namespace: object.metadata.namespace, name: object.metadata.name });
    return true;
  }

  /** PUTs `object` (which carries the resourceVersion it was read at) to `path`. */
  async update<T extends Named>(path: string, kind: string, object: T): Promise<void> {
    await this.client.put(path, object);
    this.writes.push({ verb: 'update', kind, namespace: object.metadata.namespace, name: object.metadata.name });
  }

  /** DELETEs `path` (a missing object is not an error). */
  async remove(path: string, kind: string, namespace: string, name: string): Promise<void> {
    await this.client.remove(path);
    this.writes.push({ verb: 'delete', kind, namespace, name });
  }

  /** Records a status write made elsewhere. */
  status(kind: string, namespace: string, name: string): void {
    this.writes.push({ verb: 'status', kind, namespace, name });
  }
}
