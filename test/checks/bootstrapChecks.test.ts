/**
 * The verify step's checks as records: a healthy cluster passes every one; each defect fails the one
 * check that owns it, naming the host, member or target, with that check's hint; the runner turns a
 * check that throws into a failure of that check and prints `linkerd check`-style lines.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BOOTSTRAP_CHECKS, type BootstrapFacts } from '../../common/bootstrapChecks';
import { checkLines, fatalFailures, runChecks } from '../../common/checks';

const cp = (n: number) => ({ name: `cp-${n}`, address: `10.0.0.${n}` });
const spare = { name: 'spare-1', address: '10.0.0.9' };
const worker = { name: 'worker-1', address: '10.0.1.1' };

function healthy(): BootstrapFacts {
  const serving = [cp(1), cp(2), cp(3)];
  const all = [...serving, spare, worker];
  return {
    hosts: all,
    servingControlPlanes: serving,
    spares: [spare],
    nodes: all.map((h) => ({ name: h.name, ready: true, controlPlane: h !== worker })),
    members: [...serving, spare].map((h, i) => ({
      id: `${i + 1}`,
      name: h.name,
      peerUrls: [`https://${h.address}:2380`],
      clientUrls: [],
      isLearner: false,
      healthy: true,
    })),
    targets: serving.map((h) => ({ ip: h.address, port: 6443, state: 'healthy' })),
    api: { ok: true, status: 200 },
  };
}

function failing(facts: BootstrapFacts): Array<[string, string[]]> {
  return fatalFailures(runChecks(BOOTSTRAP_CHECKS, facts)).map((r) => [r.description, r.problems]);
}

describe('bootstrap verification as check records', () => {
  test('a healthy cluster passes every check', () => {
    const results = runChecks(BOOTSTRAP_CHECKS, healthy());
    assert.equal(results.length, BOOTSTRAP_CHECKS.length);
    assert.deepEqual(fatalFailures(results), []);
    assert.ok(checkLines(results).every((line) => line.startsWith('√ ')));
  });

  test('each defect fails the check that owns it, and only that one', () => {
    const notReady = healthy();
    notReady.nodes[4] = { name: 'worker-1', ready: false, controlPlane: false, reason: 'NetworkPluginNotReady' };
    assert.deepEqual(failing(notReady), [['every host has a Ready Node', ['node worker-1 is not Ready (NetworkPluginNotReady)']]]);

    const stale = healthy();
    stale.members.push({ id: 'dead', name: '', peerUrls: ['https://10.0.0.7:2380'], clientUrls: [], isLearner: false, healthy: true });
    assert.deepEqual(failing(stale), [
      ["etcd's members are exactly the control planes and spares", ['etcd member dead is not a control-plane host (stale member?)']],
    ]);

    const learner = healthy();
    learner.members[3] = { ...learner.members[3], isLearner: true, healthy: false };
    assert.deepEqual(failing(learner), [
      ['every etcd member is a started, healthy voter', ['etcd member spare-1 is still a learner', 'etcd member spare-1 is unhealthy']],
    ]);

    const spareServing = healthy();
    spareServing.targets.push({ ip: spare.address, port: 6443, state: 'healthy' });
    spareServing.targets[1] = { ...spareServing.targets[1], state: 'unhealthy', reason: 'Target.FailedHealthChecks' };
    assert.deepEqual(failing(spareServing), [
      ['the serving control planes are healthy targets of the load balancer', ['target cp-2 is unhealthy (Target.FailedHealthChecks)']],
      ['the target group holds nothing else: no spare, no foreign address', ['spare spare-1 is registered in the target group']],
    ]);

    const apiDown = healthy();
    apiDown.api = { ok: false, status: 500 };
    assert.deepEqual(failing(apiDown), [
      ['the API answers /readyz through the load balancer', ['the API does not answer through the load balancer (HTTP 500)']],
    ]);
  });

  test('a check that throws fails with the error; lines mark failures and warnings', () => {
    const results = runChecks<number>(
      [
        { description: 'never throws', hint: 'h1', fatal: true, check: () => [] },
        {
          description: 'throws',
          hint: 'h2',
          fatal: true,
          check: () => {
            throw new Error('no facts');
          },
        },
        { description: 'warns', hint: 'h3', fatal: false, check: (n) => (n > 1 ? [`${n} is many`] : []) },
      ],
      2,
    );
    assert.deepEqual(checkLines(results), ['√ never throws', '× throws: the check could not run: no facts', '‼ warns: 2 is many']);
    assert.deepEqual(
      fatalFailures(results).map((r) => r.hint),
      ['h2'],
    );
  });
});
