/**
 * The lab's AWS front: it relays kubeha's calls to moto, answers DescribeTargetHealth in the XML
 * the SDK parses, and injects throttling and server errors that kubeha's activities must turn into
 * retryable CloudTransient failures.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DescribeLoadBalancersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { LoadBalancerInfo } from '../../../activities/types';
import { lbInput, rejectsWithFailure } from '../../aws/helpers';
import { startBackend, startTestLab, type Backend, type TestLab } from './helpers';

describe('lab AWS front', () => {
  let t: TestLab;
  let lb: LoadBalancerInfo;
  let backend: Backend;

  before(async () => {
    t = await startTestLab(92, { healthCheckIntervalScale: 0.02 });
    lb = await t.aws.ensureLoadBalancer(lbInput(t.settings, { name: 'kh-front' }));
    backend = await startBackend('x', '127.0.92.101');
  });
  after(async () => {
    await backend?.close();
    await t?.cleanup();
  });

  test('kubeha calls reach moto through the front, and a second ensureLoadBalancer finds everything in place', async () => {
    const again = await t.aws.ensureLoadBalancer(lbInput(t.settings, { name: 'kh-front' }));
    assert.deepEqual(again.created, { loadBalancer: false, targetGroup: false, listener: false });
    assert.equal(again.loadBalancerArn, lb.loadBalancerArn);
    // moto itself holds it: the front relayed the calls rather than answering them.
    const direct = await fetch(`${t.lab.motoEndpoint}/moto-api/data.json`).then((r) => r.json() as Promise<{ elbv2?: unknown }>);
    assert.match(JSON.stringify(direct), /kh-front/);
  });

  test('moto does not check SigV4 signatures: a call with a forged signature is served through the front', async () => {
    const body = 'Action=DescribeLoadBalancers&Version=2015-12-01';
    const res = await fetch(`${t.lab.endpoint}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        authorization: 'AWS4-HMAC-SHA256 Credential=nobody/20200101/us-east-1/elasticloadbalancing/aws4_request, SignedHeaders=host, Signature=00',
      },
      body,
    });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<LoadBalancerName>kh-front<\/LoadBalancerName>/);
  });

  test('DescribeTargetHealth is answered by the data plane in the XML shape AWS uses', async () => {
    await t.aws.registerTarget({ aws: t.settings, targetGroupArn: lb.targetGroupArn, ip: backend.host, port: backend.port });
    const res = await fetch(`${t.lab.endpoint}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: 'AWS4-HMAC-SHA256 Credential=k/20200101/us-east-1/elasticloadbalancing/aws4_request, SignedHeaders=host, Signature=00',
      },
      body: `Action=DescribeTargetHealth&Version=2015-12-01&TargetGroupArn=${encodeURIComponent(lb.targetGroupArn)}`,
    });
    assert.equal(res.status, 200);
    assert.ok(res.headers.get('x-amzn-requestid'));
    const xml = await res.text();
    assert.match(
      xml,
      new RegExp(
        `^<DescribeTargetHealthResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><DescribeTargetHealthResult><TargetHealthDescriptions><member>` +
          `<Target><Id>${backend.host}</Id><Port>${backend.port}</Port></Target><HealthCheckPort>${backend.port}</HealthCheckPort>` +
          `<TargetHealth><State>(initial|healthy)</State>`,
      ),
    );
    assert.match(xml, /<ResponseMetadata><RequestId>[-0-9a-f]+<\/RequestId><\/ResponseMetadata><\/DescribeTargetHealthResponse>$/);
  });

  test('an unknown target group: the front lets moto answer, and kubeha reports a Conflict', async () => {
    const gone = lb.targetGroupArn.replace(/\/[0-9a-f]+$/, '/0000000000000000');
    const { info } = await rejectsWithFailure(t.aws.describeTargetHealth({ aws: t.settings, targetGroupArn: gone }), 'Conflict', false);
    assert.match(info.hint, /ensure-load-balancer/);
  });

  test('throttle(n): kubeha gets a retryable CloudTransient (Throttling) once the SDK retries are spent, then works again', async () => {
    // The SDK tries each call 3 times: 3 throttled answers exhaust one call.
    t.lab.faults.throttle(3);
    const { info } = await rejectsWithFailure(t.aws.ensureLoadBalancer(lbInput(t.settings, { name: 'kh-front' })), 'CloudTransient', true);
    assert.equal(info.awsCode, 'Throttling');
    assert.equal(info.httpStatus, 400);
    assert.deepEqual(t.lab.status().faults, []);
    const faultEvents = t.lab.events().filter((e) => e.kind === 'fault');
    assert.equal(faultEvents.length, 3);
    assert.equal((await t.aws.ensureLoadBalancer(lbInput(t.settings, { name: 'kh-front' }))).loadBalancerArn, lb.loadBalancerArn);
  });

  test('a throttle the SDK absorbs: fewer faults than attempts, and the call succeeds', async () => {
    t.lab.faults.throttle(2, 'DescribeLoadBalancers');
    const out = await t.clients.elbv2.send(new DescribeLoadBalancersCommand({ Names: ['kh-front'] }));
    assert.equal(out.LoadBalancers?.[0]?.LoadBalancerArn, lb.loadBalancerArn);
    assert.equal(out.$metadata.attempts, 3);
  });

  test('serverError(n) on one action: DescribeTargetHealth fails 500 InternalFailure as a retryable CloudTransient', async () => {
    t.lab.faults.serverError(3, 'DescribeTargetHealth');
    const { info } = await rejectsWithFailure(t.aws.describeTargetHealth({ aws: t.settings, targetGroupArn: lb.targetGroupArn }), 'CloudTransient', true);
    assert.equal(info.httpStatus, 500);
    assert.equal(info.awsCode, 'InternalFailure');
  });

  test('EC2 is throttled in its own format (503 RequestLimitExceeded)', async () => {
    t.lab.faults.throttle(3, 'DescribeSubnets');
    // A new load balancer needs the VPC of the subnets: DescribeSubnets is the EC2 call.
    const { info } = await rejectsWithFailure(t.aws.ensureLoadBalancer(lbInput(t.settings, { name: 'kh-other' })), 'CloudTransient', true);
    assert.equal(info.awsCode, 'RequestLimitExceeded');
    assert.equal(info.httpStatus, 503);
  });

  test('the control API serves status and events, and adds and clears faults for other processes', async () => {
    const status = await fetch(`${t.lab.endpoint}/kubeha-lab/status`).then(
      (r) => r.json() as Promise<{ endpoint: string; loadBalancers: { name: string }[]; healthCheckIntervalScale: number }>,
    );
    assert.equal(status.endpoint, t.lab.endpoint);
    assert.equal(status.healthCheckIntervalScale, 0.02);
    assert.deepEqual(
      status.loadBalancers.map((l) => l.name),
      ['kh-front'],
    );
    const added = await fetch(`${t.lab.endpoint}/kubeha-lab/faults`, {
      method: 'POST',
      body: JSON.stringify({ kind: 'throttle', count: 5, action: 'CreateListener' }),
    });
    assert.equal(added.status, 200);
    assert.deepEqual(t.lab.status().faults, [{ kind: 'throttle', remaining: 5, action: 'CreateListener' }]);
    const bad = await fetch(`${t.lab.endpoint}/kubeha-lab/faults`, { method: 'POST', body: JSON.stringify({ kind: 'melt', count: 1 }) });
    assert.equal(bad.status, 400);
    await fetch(`${t.lab.endpoint}/kubeha-lab/faults`, { method: 'DELETE' });
    assert.deepEqual(t.lab.status().faults, []);
    const events = await fetch(`${t.lab.endpoint}/kubeha-lab/events`).then((r) => r.json() as Promise<{ kind: string }[]>);
    assert.ok(events.some((e) => e.kind === 'load-balancer'));
  });
});
