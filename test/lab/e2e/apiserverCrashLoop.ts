/**
 * The killed-API-server scenario of resume.test.ts: kill a control plane's kube-apiserver and, while the
 * load balancer has not noticed, kill it again as a crash loop would, until its target turns unhealthy;
 * then wait for the kubelet's restart to make it healthy again. Read from the lab AWS data plane's
 * target transitions.
 */
import assert from 'node:assert/strict';
import { probeTcp } from '../../../lab/aws/healthCheck';
import { labFault } from '../../../lab/orchestrator';
import { frontStatus } from './labWorkerRun';
import { targetTransitions } from './support';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** When the target went unhealthy and healthy again, and how many kills it took. */
export interface CrashLoopOutcome {
  kills: number;
  killedAt: number;
  lastKillAt: number;
  unhealthyAt: number;
  healthyAt: number;
  /** When the API server first answered again after the first kill, if it did before the target went unhealthy. */
  firstBackAt?: number;
  /** Whether the other control planes' targets were all healthy while the victim's was not. */
  sawOthersHealthyMeanwhile: boolean;
}

/** Kills `victim`'s API server (again while unnoticed) until its target is unhealthy, then waits for it to be healthy again. */
export async function crashLoopUntilBack(options: { endpoint: string; victim: { name: string; address: string }; dataDir: string }): Promise<CrashLoopOutcome> {
  const { endpoint, victim, dataDir } = options;
  // One kill may not be enough: the kubelet restarts the API server after a 1 s back-off, which can be
  // shorter than the two failed checks (1 s apart) that make a target unhealthy. An API server that
  // came back and stayed up without the load balancer noticing is killed again, as a crash loop does;
  // the kubelet's back-off doubles each time, so the target goes unhealthy within a few kills.
  const since = Date.now();
  let kills = 0;
  let lastKillAt = 0;
  const kill = async () => {
    try {
      assert.match(await labFault('kill-apiserver', [victim.name], dataDir), /killed kube-apiserver/);
      kills++;
      lastKillAt = Date.now();
    } catch (err) {
      // Gone again between the port check and the kill: the crash loop goes on without us.
      if (!/no kube-apiserver runs/.test((err as Error).message)) throw err;
    }
  };
  await kill();
  const killedAt = lastKillAt;
  let unhealthyAt: number | undefined;
  let healthyAt: number | undefined;
  let firstBackAt: number | undefined;
  let backSince: number | undefined;
  let sawDown = false;
  let sawOthersHealthyMeanwhile = false;
  const deadline = killedAt + 180_000;
  while (healthyAt === undefined) {
    assert.ok(
      Date.now() < deadline,
      `target ${victim.address} went ${unhealthyAt ? 'unhealthy but never healthy again' : 'never unhealthy'} (${kills} kill(s))`,
    );
    const transitions = (await targetTransitions(endpoint, since)).filter((t) => t.id === victim.address);
    unhealthyAt ??= transitions.find((t) => t.to === 'unhealthy')?.at;
    if (unhealthyAt === undefined) {
      // Back, and up long enough (2.5 check intervals) that the data plane would have said unhealthy by now.
      if (await probeTcp(victim.address, 6443, 300)) {
        backSince ??= Date.now();
        if (sawDown) firstBackAt ??= backSince;
        if (Date.now() - backSince >= 2500) {
          assert.ok(kills < 6, `target ${victim.address} never went unhealthy after ${kills} kills of its API server`);
          await kill();
          backSince = undefined;
        }
      } else {
        backSince = undefined;
        sawDown = true;
      }
    } else {
      const since = unhealthyAt;
      healthyAt = transitions.find((t) => t.at >= since && t.to === 'healthy')?.at;
      if (healthyAt === undefined) {
        const targets = (await frontStatus(endpoint)).loadBalancers[0].targets;
        if (targets.find((t) => t.id === victim.address)?.state === 'unhealthy') {
          sawOthersHealthyMeanwhile = targets.filter((t) => t.id !== victim.address).every((t) => t.state === 'healthy');
        }
      }
    }
    await sleep(100);
  }
  await sleep(1000);
  return { kills, killedAt, lastKillAt, unhealthyAt: unhealthyAt!, healthyAt, firstBackAt, sawOthersHealthyMeanwhile };
}
