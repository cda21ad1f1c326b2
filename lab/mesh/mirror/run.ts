/**
 * LAB EMULATION of the service mirror controller's run loop: {@link syncMirrors} every interval
 * against the local cluster named by a kubeconfig, until stopped. Linkerd's controller is driven by
 * informers and repairs Endpoints every minute; the lab polls, which reaches the same state within
 * one interval and needs no watch streams.
 */
import { KubeClient } from '../../kube/client';
import { parseKubeconfig } from '../../kube/kubeconfig';
import { type SyncMirrorsOptions, type SyncReport, syncMirrors } from './sync';

/** Options of {@link runServiceMirror}. */
export interface ServiceMirrorOptions extends Omit<SyncMirrorsOptions, 'local'> {
  /** The local cluster's kubeconfig text (its current context is used). */
  localKubeconfig: string;
  /** Time between the end of a pass and the start of the next. Default 1 s. */
  intervalMs?: number;
  /** Called after each pass. */
  onPass?: (report: SyncReport) => void;
  /** Called when a pass fails as a whole (the local cluster did not answer); the loop goes on. */
  onError?: (err: Error) => void;
}

/** A running service mirror. */
export interface ServiceMirror {
  /** The report of the next pass to finish. */
  nextPass(): Promise<SyncReport>;
  /** Ends the loop after the pass under way, if any. */
  stop(): Promise<void>;
}

/** Starts the loop; the first pass starts at once. */
export function runServiceMirror(options: ServiceMirrorOptions): ServiceMirror {
  const local = new KubeClient(parseKubeconfig(options.localKubeconfig), 10_000);
  const interval = options.intervalMs ?? 1000;
  let stopped = false;
  let wake: (() => void) | undefined;
  let waiters: Array<(report: SyncReport) => void> = [];
  const loop = (async () => {
    while (!stopped) {
      try {
        const report = await syncMirrors({ ...options, local });
        options.onPass?.(report);
        const done = waiters;
        waiters = [];
        done.forEach((resolve) => resolve(report));
      } catch (err) {
        options.onError?.(err as Error);
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, interval);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();
  return {
    nextPass: () => new Promise((resolve) => waiters.push(resolve)),
    stop: async () => {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}
