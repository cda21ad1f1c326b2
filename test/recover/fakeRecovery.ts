/**
 * The recovery activities as stubs over a FakeWorld (WORKFLOW tests only; the activities themselves run
 * against the lab's real etcd): hosts that are down do not answer, the members of a cluster without
 * quorum see no leader, and a restore makes the survivor the only member. A host that comes back is
 * repaired by its join in the real world; here its stale Node is dropped at the restore instead.
 */
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { BackupRecord } from '../../activities/backup/types';
import type { EtcdMemberProbe, RecoveryActivities, SurvivorRestoreResult } from '../../activities/recovery/types';
import type { RecoverControlPlaneInput } from '../../common/inputs/recoverControlPlane';
import { FakeWorld } from '../support/fakeWorld';
import { bootstrapInput } from '../support/inputs';
import { stubWorker } from '../support/workflowHarness';

export class FakeRecovery {
  /** Hosts that do not answer over SSH. */
  readonly down = new Set<string>();
  /** Raft index by host (default 100). */
  readonly raftIndex = new Map<string, number>();
  /** Whether the members have lost quorum (they then see no leader). */
  quorumLost = true;
  /** Answers that still name the old leader (as survivors do until their election timeout). */
  staleLeaderAnswers = 0;
  /** When set, a restore waits for it before it acts (crash tests). */
  gate?: Promise<void>;
  /** Restores that started, in order. */
  readonly started: string[] = [];
  /** Complete backups in the store, newest first. */
  readonly stored: BackupRecord[] = [];
  /** The token of the snapshot restore each host holds (the marker in its data directory). */
  private readonly restoredBy = new Map<string, string>();

  constructor(private readonly world: FakeWorld) {}

  private probe(name: string): EtcdMemberProbe {
    if (this.down.has(name)) return { host: name, reachable: false, answers: false, error: 'connect ECONNREFUSED' };
    const member = this.world.etcd.get(name);
    if (!member) return { host: name, reachable: true, answers: false, error: 'etcd does not answer' };
    const alone = this.world.etcd.size === 1;
    const index = this.raftIndex.get(name) ?? 100;
    const stale = this.staleLeaderAnswers > 0 && this.staleLeaderAnswers-- > 0;
    const leader = alone ? member.id : this.quorumLost && !stale ? '0' : [...this.world.etcd.values()][0].id;
    return {
      host: name,
      reachable: true,
      answers: true,
      memberId: member.id,
      leader,
      raftIndex: index,
      raftTerm: 7,
      revision: index - 10,
      voters: this.world.etcd.size,
    };
  }

  activities(): RecoveryActivities {
    return {
      probeEtcdMember: async ({ host }) => this.probe(host.name),
      restoreEtcdFromSurvivor: async ({ host }) => {
        this.started.push(host.name);
        if (this.gate) await this.gate;
        const before = this.probe(host.name);
        const member = this.world.etcd.get(host.name);
        if (!member) throw new Error(`${host.name} has no etcd member`);
        if (this.world.etcd.size === 1) return { alreadyRestored: true, memberId: member.id, revisionAfter: 95, removedMembers: [] };
        this.world.act(`restore:${host.name}`);
        const removed = [...this.world.etcd.keys()].filter((n) => n !== host.name);
        for (const name of removed) {
          this.world.etcd.delete(name);
          this.world.nodes.delete(name);
        }
        return { alreadyRestored: false, memberId: member.id, revisionBefore: before.revision, revisionAfter: 95, removedMembers: removed };
      },
      findRecoveryBackup: async ({ backupId }) => (backupId ? this.stored.find((b) => b.backupId === backupId) : this.stored[0]),
      restoreEtcdFromSnapshot: async ({ host, backupId, token, lostMembers }) => {
        this.started.push(host.name);
        if (this.gate) await this.gate;
        const record = this.stored.find((b) => b.backupId === backupId);
        if (!record) throw new Error(`no backup ${backupId}`);
        const done = (alreadyRestored: boolean): SurvivorRestoreResult => ({
          alreadyRestored,
          memberId: this.world.etcd.get(host.name)?.id ?? '',
          revisionBefore: record.revision,
          revisionAfter: record.revision,
          removedMembers: lostMembers,
          fromBackup: { backupId, createdAt: record.createdAt, revision: record.revision, host: record.host },
        });
        if (this.restoredBy.get(host.name) === token) return done(true);
        if (this.world.etcd.has(host.name)) throw new Error(`etcd on ${host.name} answers: a snapshot would overwrite it`);
        this.world.act(`restore-snapshot:${host.name}:${backupId}`);
        this.restoredBy.set(host.name, token);
        this.world.etcd.set(host.name, {
          id: 'a1',
          name: host.name,
          peerUrls: [`https://${host.address}:2380`],
          clientUrls: [`https://${host.address}:2379`],
          isLearner: false,
          healthy: true,
        });
        for (const name of lostMembers) this.world.nodes.delete(name);
        return done(false);
      },
      waitHostsBack: async ({ hosts, timeoutSeconds, pollSeconds }) => {
        const started = Date.now();
        for (;;) {
          const back = hosts.filter((h) => !this.down.has(h.name)).map((h) => h.name);
          const waitedSeconds = Math.round((Date.now() - started) / 1000);
          if (back.length > 0 || waitedSeconds >= timeoutSeconds) return { back, waitedSeconds };
          // The stub polls faster than the input asks: the tests wait on it.
          await new Promise((r) => setTimeout(r, Math.min(pollSeconds * 1000, 100)));
        }
      },
      resetStaleMember: async ({ host }) => {
        if (this.world.etcd.has(host.name)) return { reset: false, reason: 'a member of the restored cluster' };
        this.world.act(`reset:${host.name}`);
        return { reset: true };
      },
    };
  }
}

/** The control planes of the test bootstrap input, and every voter's address. */
export const CONTROL_PLANES = ['cp-1', 'cp-2', 'cp-3'];
export const ADDRESS: Record<string, string> = { 'cp-1': '10.0.1.11', 'cp-2': '10.0.1.12', 'cp-3': '10.0.1.13', 'spare-1': '10.0.2.11' };

/** A recovery of the test bootstrap input's cluster, with short windows. */
export function recoverInput(overrides: Partial<RecoverControlPlaneInput> = {}): RecoverControlPlaneInput {
  return {
    cluster: bootstrapInput({ onFailure: 'fail' }),
    precheck: { windowSeconds: 2, intervalSeconds: 2 },
    approval: { required: false },
    rejoin: { waitMinutes: 1, pollSeconds: 2 },
    onFailure: 'fail',
    ...overrides,
  };
}

/** A world bootstrapped by BootstrapStackedEtcd, whose three control planes are then down (targets unhealthy, quorum lost). */
export async function bootstrappedZoneLost(env: TestWorkflowEnvironment): Promise<{ world: FakeWorld; recovery: FakeRecovery }> {
  const world = new FakeWorld();
  const recovery = new FakeRecovery(world);
  const { worker, taskQueue } = await stubWorker(env, { ...world.activities(), ...recovery.activities() });
  await worker.runUntil(
    env.client.workflow.execute('BootstrapStackedEtcd', { args: [bootstrapInput({ onFailure: 'fail' })], taskQueue, workflowId: `boot-${randomUUID()}` }),
  );
  for (const name of CONTROL_PLANES) {
    recovery.down.add(name);
    world.targets.set(ADDRESS[name], 'unhealthy');
  }
  world.newRun();
  return { world, recovery };
}
