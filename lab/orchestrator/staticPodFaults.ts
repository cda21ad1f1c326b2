/**
 * A static Pod stopped for good, as an operator stops one on a real node: its manifest moved out of
 * /etc/kubernetes/manifests, so the kubelet stops the process and does not restart it (unlike
 * `kill-apiserver`, which the kubelet undoes within seconds). Moving it back starts it again. The
 * manifest is moved inside the host's own folder; etcd and the kubelet keep running, so stopping
 * kube-apiserver on every registered control plane takes west's API down without costing etcd quorum.
 */
import { existsSync, renameSync } from 'node:fs';
import path from 'node:path';
import { labHostPaths } from '../hosts/layout';
import { findHost } from './hostAccess';
import { labPaths, readLabState } from './state';

function locations(dataDir: string | undefined, hostName: string, pod: string): { active: string; parked: string; host: string } {
  const paths = labPaths(dataDir);
  const state = readLabState(paths);
  if (!state) throw new Error('the lab is down: `kubeha lab up` first');
  const host = findHost(state, hostName);
  const kubernetes = path.join(labHostPaths(paths.labDir, host.name).rootDir, 'etc', 'kubernetes');
  return { active: path.join(kubernetes, 'manifests', `${pod}.yaml`), parked: path.join(kubernetes, `${pod}.yaml.stopped-by-lab`), host: host.name };
}

/** Stops static Pod `pod` (default kube-apiserver) on `hostName` until {@link startStaticPod}. */
export function stopStaticPod(hostName: string, pod = 'kube-apiserver', dataDir?: string): string {
  const { active, parked, host } = locations(dataDir, hostName, pod);
  if (existsSync(parked) && !existsSync(active)) return `${pod} on ${host} is already stopped`;
  if (!existsSync(active)) throw new Error(`${host} has no static pod manifest ${pod}.yaml`);
  renameSync(active, parked);
  return `${pod} on ${host} stopped: its manifest is out of /etc/kubernetes/manifests, the kubelet stops it and does not restart it`;
}

/** Starts static Pod `pod` again on `hostName` (the kubelet picks the manifest up at its next sync). */
export function startStaticPod(hostName: string, pod = 'kube-apiserver', dataDir?: string): string {
  const { active, parked, host } = locations(dataDir, hostName, pod);
  if (!existsSync(parked)) return `${pod} on ${host} was not stopped by the lab`;
  renameSync(parked, active);
  return `${pod} on ${host} started again: its manifest is back in /etc/kubernetes/manifests`;
}
