/**
 * The pure rules behind the AWS activities: default names, state mapping, hints per stuck state,
 * the resumed clock, health-check drift and the listener check.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { defaultTargetGroupName, isDryRunPlaceholder } from '../../activities/aws';
import { checkApiListener, healthCheckDrift } from '../../activities/aws/checks';
import { targetStateOf } from '../../activities/aws/targets';
import { resumedWaitedSeconds, stuckTargetHint } from '../../activities/aws/waitTargetHealthy';
import { failureInfo } from '../../common/errors';
import { loadBalancerSchema } from '../../common/inputs/bootstrapStackedEtcd';

const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/kh-api-api/0123456789abcdef';
const api = { arn: TG, name: 'kh-api-api' };
const OTHER = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/legacy/0123456789abcdef';

describe('AWS rules', () => {
  test('the default target group name fits AWS rules for every valid load balancer name', () => {
    assert.equal(defaultTargetGroupName('kh-api'), 'kh-api-api');
    const longest = 'a'.repeat(32);
    assert.equal(defaultTargetGroupName(longest).length, 32);
    assert.equal(defaultTargetGroupName(`${'a'.repeat(27)}-bcd`), `${'a'.repeat(27)}-api`, 'no "--" where the cut lands on a hyphen');
    assert.equal(defaultTargetGroupName('kh--api'), 'kh-api-api', 'AWS refuses "--" in target group names');
    for (const name of ['x', 'kh-api', longest, `${'a'.repeat(27)}-bcd`, 'a-b-c-d']) {
      // The generated name passes the same rule the input schema applies to an explicit name.
      assert.doesNotThrow(() => loadBalancerSchema.parse({ name: 'kh-api', targetGroup: { name: defaultTargetGroupName(name) } }), name);
    }
  });

  test('dry-run placeholders are recognisable, real ARNs are not', () => {
    assert.ok(isDryRunPlaceholder('dry-run:loadbalancer/net/kh-api'));
    assert.ok(isDryRunPlaceholder('kh-api.dry-run.invalid'));
    assert.ok(!isDryRunPlaceholder(TG));
    assert.ok(!isDryRunPlaceholder('kh-api-1.us-east-1.elb.amazonaws.com'));
  });

  test('AWS target states map onto kubeha states', () => {
    for (const s of ['initial', 'healthy', 'unhealthy', 'unused', 'draining', 'unavailable'] as const) assert.equal(targetStateOf(s), s);
    assert.equal(targetStateOf('unhealthy.draining'), 'draining');
    assert.equal(targetStateOf('something-new'), 'unavailable');
    assert.equal(targetStateOf(undefined), 'unavailable');
  });

  test('each stuck state has a hint that names its likely causes', () => {
    assert.match(stuckTargetHint('unhealthy'), /security group does not allow TCP 6443/);
    assert.match(stuckTargetHint('unhealthy'), /hairpin/);
    assert.match(stuckTargetHint('unhealthy'), /kube-apiserver is down/);
    assert.match(stuckTargetHint('initial'), /security group allows TCP 6443/);
    assert.match(stuckTargetHint('unused'), /not attached to a listener/);
    assert.match(stuckTargetHint('unused'), /availability zone/);
    assert.match(stuckTargetHint('draining'), /being deregistered/);
    assert.match(stuckTargetHint('unavailable'), /health checks may be disabled/);
  });

  test('the resumed clock takes only a sane waitedSeconds from the last heartbeat', () => {
    assert.equal(resumedWaitedSeconds({ state: 'initial', waitedSeconds: 42 }), 42);
    assert.equal(resumedWaitedSeconds(undefined), 0);
    assert.equal(resumedWaitedSeconds({ waitedSeconds: '42' }), 0);
    assert.equal(resumedWaitedSeconds({ waitedSeconds: -5 }), 0);
    assert.equal(resumedWaitedSeconds(7), 0);
  });

  test('health-check drift lists each differing field', () => {
    const want = { intervalSeconds: 10, timeoutSeconds: 10, healthyThreshold: 2, unhealthyThreshold: 2 };
    const same = {
      HealthCheckEnabled: true,
      HealthCheckProtocol: 'HTTPS' as const,
      HealthCheckPath: '/readyz',
      HealthCheckPort: 'traffic-port',
      Matcher: { HttpCode: '200' },
      HealthCheckIntervalSeconds: 10,
      HealthCheckTimeoutSeconds: 10,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 2,
    };
    assert.deepEqual(healthCheckDrift(same, want), []);
    assert.deepEqual(healthCheckDrift({ ...same, HealthCheckProtocol: 'TCP', HealthCheckPath: undefined, Matcher: undefined }, want), [
      { field: 'HealthCheckProtocol', actual: 'TCP', expected: 'HTTPS' },
      { field: 'HealthCheckPath', actual: 'undefined', expected: '/readyz' },
      { field: 'Matcher.HttpCode', actual: 'undefined', expected: '200' },
    ]);
    assert.deepEqual(healthCheckDrift({ ...same, HealthCheckEnabled: false, HealthyThresholdCount: 5 }, want), [
      { field: 'HealthCheckEnabled', actual: 'false', expected: 'true' },
      { field: 'HealthyThresholdCount', actual: '5', expected: '2' },
    ]);
  });

  test('the listener check accepts a forward to the target group, by ARN or forward config', () => {
    assert.equal(checkApiListener([], api, 'kh-api'), undefined);
    const plain = { Port: 6443, Protocol: 'TCP' as const, DefaultActions: [{ Type: 'forward' as const, TargetGroupArn: TG }] };
    assert.equal(checkApiListener([plain], api, 'kh-api'), plain);
    const weighted = {
      Port: 6443,
      Protocol: 'TCP' as const,
      DefaultActions: [{ Type: 'forward' as const, ForwardConfig: { TargetGroups: [{ TargetGroupArn: TG, Weight: 1 }] } }],
    };
    assert.equal(checkApiListener([weighted], api, 'kh-api'), weighted);
    const other = { Port: 443, Protocol: 'TLS' as const, DefaultActions: [{ Type: 'forward' as const, TargetGroupArn: OTHER }] };
    assert.equal(checkApiListener([other], api, 'kh-api'), undefined, "other ports are not kubeha's business");
  });

  test('the listener check refuses a TLS listener and a split forward', () => {
    const tls = { Port: 6443, Protocol: 'TLS' as const, DefaultActions: [{ Type: 'forward' as const, TargetGroupArn: TG }] };
    assert.throws(
      () => checkApiListener([tls], api, 'kh-api'),
      (err) => err instanceof ApplicationFailure && failureInfo(err)?.field === 'Protocol',
    );
    const split = {
      Port: 6443,
      Protocol: 'TCP' as const,
      DefaultActions: [{ Type: 'forward' as const, ForwardConfig: { TargetGroups: [{ TargetGroupArn: TG }, { TargetGroupArn: OTHER }] } }],
    };
    assert.throws(
      () => checkApiListener([split], api, 'kh-api'),
      (err) =>
        err instanceof ApplicationFailure && failureInfo(err)?.field === 'DefaultActions' && /DefaultActions "forward to kh-api-api, legacy"/.test(err.message),
    );
  });
});
