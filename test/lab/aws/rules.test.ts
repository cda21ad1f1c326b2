/**
 * The data plane's rules on their own: health-check thresholds and the order faults are served in.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FaultQueue } from '../../../lab/aws/faults';
import { afterCheck, type HealthTally } from '../../../lab/aws/healthCheck';
import { requestedTargets } from '../../../lab/aws/queryApi';

const thresholds = { healthyThreshold: 3, unhealthyThreshold: 2 };

function run(results: boolean[], start: HealthTally = { state: 'initial', passes: 0, failures: 0 }): string[] {
  const states: string[] = [];
  let tally = start;
  for (const passed of results) {
    tally = afterCheck(tally, passed, thresholds);
    states.push(tally.state);
  }
  return states;
}

describe('health-check thresholds', () => {
  test('initial becomes healthy on the healthy threshold of consecutive passes, not before', () => {
    assert.deepEqual(run([true, true, true]), ['initial', 'initial', 'healthy']);
  });

  test('a failure resets the pass count', () => {
    assert.deepEqual(run([true, true, false, true, true, true]), ['initial', 'initial', 'initial', 'initial', 'initial', 'healthy']);
  });

  test('initial becomes unhealthy on the unhealthy threshold of consecutive failures', () => {
    assert.deepEqual(run([false, false]), ['initial', 'unhealthy']);
  });

  test('healthy turns unhealthy after the threshold, and back only after the healthy threshold', () => {
    assert.deepEqual(run([false, true, false, false, true, true, true], { state: 'healthy', passes: 5, failures: 0 }), [
      'healthy',
      'healthy',
      'healthy',
      'unhealthy',
      'unhealthy',
      'unhealthy',
      'healthy',
    ]);
  });
});

describe('fault queue', () => {
  test('serves faults in order, counts down, and an action-bound fault hits only that action', () => {
    const faults = new FaultQueue();
    faults.add('throttle', 1, 'CreateListener');
    faults.add('server-error', 2);
    assert.equal(faults.take('DescribeLoadBalancers'), 'server-error');
    assert.equal(faults.take('CreateListener'), 'throttle');
    assert.deepEqual(faults.list(), [{ kind: 'server-error', remaining: 1 }]);
    assert.equal(faults.take('CreateListener'), 'server-error');
    assert.equal(faults.take('CreateListener'), undefined);
  });

  test('refuses a count that is not a positive whole number', () => {
    assert.throws(() => new FaultQueue().add('throttle', 0), /positive whole number/);
    assert.throws(() => new FaultQueue().add('throttle', 1.5), /positive whole number/);
  });
});

describe('DescribeTargetHealth parameters', () => {
  test('reads Targets.member.N with and without a port', () => {
    const params = new URLSearchParams('Action=DescribeTargetHealth&Targets.member.1.Id=10.0.0.1&Targets.member.1.Port=6443&Targets.member.2.Id=10.0.0.2');
    assert.deepEqual(requestedTargets(params), [{ id: '10.0.0.1', port: 6443 }, { id: '10.0.0.2' }]);
  });
});
