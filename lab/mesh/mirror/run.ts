/**
 * LAB EMULATION of the service mirror controller's run loop: {@link syncMirrors} every interval
 * against the local cluster named by a kubeconfig, until stopped. Linkerd's controller is driven by
 * informers and repairs Endpoints every minute; the lab polls, which reaches the same state within
 * one interval and needs no watch streams.
 */
import { KubeClient } from '../../kube/client';
import { parseKubeconfig } from '../../kube/kubeconfig';
import { type PollLoop, startPollLoop } from '../pollLoop';
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

/** A running service mirror: `nextPass()` answers the next pass's report. */
export type ServiceMirror = PollLoop<SyncReport>;

/** Starts the loop; the first pass starts at once. */
export function runServiceMirror(options: ServiceMirrorOptions): ServiceMirror {
  const local = new KubeClient(parseKubeconfig(options.localKubeconfig), 10_000);
  const pass = async () => {
    const report = await syncMirrors({ ...options, local });
    options.onPass?.(report);
    return report;
  };
  return startPollLoop(pass, options.intervalMs ?? 1000, options.onError);
}
