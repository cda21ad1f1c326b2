/**
 * `restoreEtcdFromSnapshot`: no member survived (every control plane lost its etcd data), so one host
 * is restored from a stored backup, the way etcd's disaster recovery documents it for a static Pod:
 * 1. the control plane's static Pod manifests are held out of /etc/kubernetes/manifests, so the kubelet
 *    stops etcd, kube-apiserver, kube-controller-manager and kube-scheduler: Kubernetes' own restore
 *    procedure restarts all of them, since their caches are ahead of the snapshot;
 * 2. the snapshot is written onto the host from S3 and its sha256 checked against the backup's record;
 * 3. `etcdutl snapshot restore` (etcdctl's on etcd 3.4) makes a one-member cluster with the member's
 *    own name and peer URL, read from the manifest kubeadm wrote, in a folder of the data directory;
 * 4. its `member` folder takes the place of the lost one (kept aside, never deleted), and a marker
 *    names this restore; 5. the manifests go back, unchanged, and the member must lead alone.
 *
 * A retry finds the marker and only does 5: the data is never restored twice, so a write accepted
 * after the first restore is never lost to a second.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { ErrorType } from '../../common/errors';
import type { HostSpec } from '../../common/inputs/shared';
import { downloadSnapshot } from '../backup/download';
import { findBackup } from '../backup/store';
import { hostFailure, type HostRunner, REMOTE, shellWord } from '../hosts/context';
import { etcdFlags } from './manifest';
import { probeReachableMember } from './probe';
import { ETCD_MANIFEST, waitLeadsAlone } from './restore';
import type { SnapshotRestoreInput, SurvivorRestoreResult } from './types';

/** Manifests kubeha holds out of the kubelet's folder during the restore (put back as they were; an absent one is skipped). */
const HELD_DIR = '/etc/kubernetes/kubeha-held';
const HELD_PODS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
/** How long the kubelet may take to stop the held API server (its file check runs every 20 s). */
const STOP_TIMEOUT_S = 120;

/** What the marker in the data directory records: which restore put the data there. */
interface RestoreMarker {
  token: string;
  backupId: string;
  revision: number;
}

function markerPath(dataDir: string): string {
  return `${dataDir}/kubeha-restored.json`;
}

async function readMarker(run: HostRunner, host: HostSpec, dataDir: string): Promise<RestoreMarker | undefined> {
  const text = await run.readFile(host, markerPath(dataDir));
  try {
    return text ? (JSON.parse(text) as RestoreMarker) : undefined;
  } catch {
    return undefined;
  }
}

/** The etcd manifest, where it is now (in the kubelet's folder or held by an earlier attempt). */
async function etcdManifest(run: HostRunner, host: HostSpec): Promise<{ name: string; peerUrl: string; dataDir: string }> {
  const text = (await run.readFile(host, ETCD_MANIFEST)) ?? (await run.readFile(host, `${HELD_DIR}/etcd.yaml`));
  const flags = text === undefined ? undefined : etcdFlags(text);
  const peerUrl = flags?.['initial-advertise-peer-urls']?.split(',')[0];
  if (!flags?.name || !peerUrl) {
    throw hostFailure({
      type: ErrorType.Conflict,
      host,
      message: `${ETCD_MANIFEST} is missing or names no --name and --initial-advertise-peer-urls: kubeadm set up no etcd member here`,
      retryable: false,
      hint: 'name a control-plane host that kubeadm set up (snapshot.host); a new machine joins after the restore instead',
    });
  }
  return { name: flags.name, peerUrl, dataDir: flags['data-dir'] ?? REMOTE.etcdData };
}

/** Moves the static Pods' manifests out (`hold`) or back; an earlier attempt's move is kept. */
async function moveManifests(run: HostRunner, host: HostSpec, hold: boolean): Promise<void> {
  const moves = HELD_PODS.map((pod) => {
    const [from, to] = hold ? [`${REMOTE.manifests}/${pod}.yaml`, `${HELD_DIR}/${pod}.yaml`] : [`${HELD_DIR}/${pod}.yaml`, `${REMOTE.manifests}/${pod}.yaml`];
    return `if [ -f ${from} ]; then mv -f ${from} ${to}; fi`;
  });
  await run.check(
    host,
    {
      command: `mkdir -p ${HELD_DIR} && chmod 0700 ${HELD_DIR} && ${moves.join(' && ')}`,
      label: hold ? 'hold static pod manifests' : 'put static pod manifests back',
    },
    `move the manifests by hand: ${HELD_DIR}/*.yaml belong in ${REMOTE.manifests}`,
  );
}

/** Waits until kube-apiserver on the host no longer listens, so it starts afresh (an empty watch cache) afterwards. */
async function waitApiServerStopped(run: HostRunner, host: HostSpec): Promise<void> {
  const url = `https://${host.address.includes(':') ? `[${host.address}]` : host.address}:6443/livez`;
  const probe = `curl -sk -o /dev/null --max-time 3 ${shellWord(url)}`;
  await run.check(
    host,
    {
      command: `for i in $(seq ${STOP_TIMEOUT_S}); do ${probe} || exit 0; sleep 1; done; exit 1`,
      label: 'wait for kube-apiserver to stop',
      timeoutMs: (STOP_TIMEOUT_S + 30) * 1000,
    },
    `kube-apiserver on ${host.name} still answers ${STOP_TIMEOUT_S} s after its manifest left ${REMOTE.manifests}: is the kubelet running?`,
    ErrorType.NotReady,
  );
}

/** The restore command: etcdutl where it exists (etcd 3.5+), etcdctl's on 3.4. */
function restoreCommand(file: string, name: string, peerUrl: string, target: string): string {
  const args = `snapshot restore ${shellWord(file)} --name ${shellWord(name)} --initial-cluster ${shellWord(`${name}=${peerUrl}`)} --initial-advertise-peer-urls ${shellWord(peerUrl)} --data-dir ${shellWord(target)}`;
  return `rm -rf ${shellWord(target)} && if command -v etcdutl >/dev/null 2>&1; then etcdutl ${args}; else ETCDCTL_API=3 etcdctl ${args}; fi`;
}

export async function restoreEtcdFromSnapshot(run: HostRunner, s3: S3Client, input: SnapshotRestoreInput): Promise<SurvivorRestoreResult> {
  const { host } = input;
  const record = await findBackup(s3, input.store, input.clusterName, input.backupId);
  if (!record) {
    throw hostFailure({
      type: ErrorType.CloudRejected,
      host,
      message: `backup ${input.backupId} of cluster ${input.clusterName} is not complete in s3://${input.store.bucket}`,
      retryable: false,
      hint: '`kubeha backup list` shows the complete ones; name one in snapshot.backupId',
    });
  }
  const fromBackup = { backupId: record.backupId, createdAt: record.createdAt, revision: record.revision, host: record.host };
  const member = await etcdManifest(run, host);
  const marker = await readMarker(run, host, member.dataDir);
  if (marker?.token !== input.token) {
    const before = await probeReachableMember(run, host, 'bring the host back, or name another in snapshot.host');
    if (before.answers) {
      throw hostFailure({
        type: ErrorType.Conflict,
        host,
        message: `etcd on ${host.name} answers (leader ${before.leader}, ${before.voters} voter(s), revision ${before.revision}): it has data a snapshot would overwrite`,
        retryable: false,
        hint: 'start the recovery again: it restores from the member that answers instead of from a backup',
      });
    }
    await moveManifests(run, host, true);
    await waitApiServerStopped(run, host);
    const work = `${member.dataDir}/kubeha-restore`;
    const file = `${work}/snapshot.db`;
    try {
      await downloadSnapshot(run, s3, input.store, { host, dir: work, path: file, record });
      await run.check(
        host,
        { command: restoreCommand(file, member.name, member.peerUrl, `${work}/data`), label: 'etcdutl snapshot restore', timeoutMs: 15 * 60_000 },
        'etcdutl (or etcdctl on etcd 3.4) must be installed on the host; the activity retries from a new copy of the snapshot',
        ErrorType.CommandTransient,
      );
    } finally {
      // The snapshot holds every Secret of the cluster: it never stays on the host, whatever happened.
      await run.removeFile(host, file);
    }
    // One shell: the lost data is kept aside, the restored member takes its place, the marker names this restore.
    const markerText = JSON.stringify({ token: input.token, backupId: record.backupId, revision: record.revision } satisfies RestoreMarker);
    const data = shellWord(member.dataDir);
    await run.check(
      host,
      {
        command: `if [ -e ${data}/member ]; then mv ${data}/member ${data}/kubeha-lost-member-$(date +%s); fi && mv ${shellWord(`${work}/data/member`)} ${data}/member && printf '%s' ${shellWord(markerText)} > ${shellWord(markerPath(member.dataDir))}`,
        label: 'put the restored member in place',
      },
      `the restored data is in ${work}/data; move its member folder to ${member.dataDir}/member by hand`,
    );
  }
  await moveManifests(run, host, false);
  const after = await waitLeadsAlone(run, host, 'start alone from the restored snapshot');
  if ((after.revision ?? 0) < record.revision) {
    // A member that started on an empty folder (a new cluster of one) also leads alone: only the data tells.
    throw hostFailure({
      type: ErrorType.VerificationFailed,
      host,
      message: `etcd on ${host.name} leads alone at revision ${after.revision}, below the backup's ${record.revision}: it does not run on the restored data`,
      retryable: false,
      hint: `stop etcd on ${host.name} (move ${ETCD_MANIFEST} away), check that ${member.dataDir}/member is the restored one (kubeha-restored.json names the run), then retry`,
    });
  }
  await run.run(host, { command: `rm -rf ${shellWord(`${member.dataDir}/kubeha-restore`)}`, label: 'remove the snapshot file' }).catch(() => undefined);
  return {
    alreadyRestored: marker?.token === input.token,
    memberId: after.memberId ?? '',
    revisionBefore: record.revision,
    revisionAfter: after.revision ?? 0,
    removedMembers: input.lostMembers,
    fromBackup,
  };
}
