/**
 * How kubeha reads a pod that is not ready: kubectl's status words, the container at fault and its
 * restarts, the scheduler's reason, a missing network; and the hint for the worst of them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describePodProblem, podProblem, podProblemHint, worstFirst } from '../../activities/kubernetes/podProblems';

const meta = (name: string) => ({ metadata: { name, namespace: 'kube-system' }, spec: { nodeName: 'cp-1' } });
const waiting = (name: string, reason: string, message?: string, restartCount = 0) => ({ name, restartCount, state: { waiting: { reason, message } } });

describe('pod problems', () => {
  test('a Ready pod has none', () => {
    assert.equal(podProblem({ ...meta('a'), status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } }), undefined);
  });

  test('an init container crash-looping is Init:CrashLoopBackOff with its restarts, and its hint reads its logs', () => {
    const p = podProblem({
      ...meta('calico-node-x'),
      status: {
        phase: 'Pending',
        initContainerStatuses: [waiting('install-cni', 'CrashLoopBackOff', 'back-off 20s', 3)],
        containerStatuses: [waiting('calico-node', 'PodInitializing')],
      },
    });
    assert.equal(p?.kind, 'crash-loop');
    assert.equal(describePodProblem(p!), 'pod kube-system/calico-node-x on cp-1: Init:CrashLoopBackOff (install-cni restarted 3 times)');
    assert.match(podProblemHint([p!]) ?? '', /kubectl -n kube-system logs calico-node-x -c install-cni --previous/);
  });

  test("an unschedulable pod carries the scheduler's reason; a pod without network names the node's CNI", () => {
    const pending = podProblem({
      metadata: { name: 'web', namespace: 'ns' },
      spec: {},
      status: {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/2 nodes are available: 2 node(s) had untolerated taint {node.kubernetes.io/not-ready: }.',
          },
        ],
      },
    });
    assert.equal(
      describePodProblem(pending!),
      'pod ns/web: Pending, 0/2 nodes are available: 2 node(s) had untolerated taint {node.kubernetes.io/not-ready: }.',
    );
    const network = podProblem({
      ...meta('dns'),
      status: {
        phase: 'Pending',
        containerStatuses: [
          waiting('dns', 'ContainerCreating', 'network is not ready: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady'),
        ],
      },
    });
    assert.equal(network?.kind, 'no-network');
    assert.match(podProblemHint([network!]) ?? '', /CNI does not run on cp-1/);
    assert.deepEqual(
      worstFirst([network!, pending!]).map((p) => p.kind),
      ['unschedulable', 'no-network'],
    );
  });

  test('a pod only waiting gives no special hint', () => {
    const p = podProblem({
      ...meta('slow'),
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }], containerStatuses: [{ name: 'slow', state: { running: {} } }] },
    });
    assert.equal(describePodProblem(p!), 'pod kube-system/slow on cp-1: Running, not ready');
    assert.equal(podProblemHint([p!]), undefined);
  });
});
