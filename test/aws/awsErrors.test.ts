/**
 * AWS error mapping: real error responses from moto (validation, a server error), a real
 * unreachable endpoint, and the classification of the codes moto cannot produce (throttling,
 * access denied, quotas), built from the SDK's own exception classes.
 */
import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import {
  DescribeTrustStoresCommand,
  ElasticLoadBalancingV2Client,
  ElasticLoadBalancingV2ServiceException,
  InvalidConfigurationRequestException,
  TooManyLoadBalancersException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { ApplicationFailure } from '@temporalio/common';
import { awsFailure, createAwsActivities, defaultAwsClients } from '../../activities/aws';
import { awsCall } from '../../activities/aws/awsErrors';
import { failureInfo } from '../../common/errors';
import { MOTO_CREDENTIALS, MOTO_REGION, startMoto, type MotoNetwork, type MotoServer } from '../support/moto';
import { allLoadBalancers, lbInput, rejectsWithFailure } from './helpers';

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 1));
    });
  });
}

describe('AWS error mapping', () => {
  let moto: MotoServer;
  let network: MotoNetwork;
  const savedEnv = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

  before(async () => {
    moto = await startMoto();
    // defaultAwsClients uses the SDK's default chain; the environment is its first source.
    process.env.AWS_ACCESS_KEY_ID = MOTO_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = MOTO_CREDENTIALS.secretAccessKey;
  });
  after(async () => {
    await moto?.stop();
    for (const [key, value] of [
      ['AWS_ACCESS_KEY_ID', savedEnv.id],
      ['AWS_SECRET_ACCESS_KEY', savedEnv.secret],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
  beforeEach(async () => {
    await moto.reset();
    network = await moto.createNetwork();
  });

  describe('real responses', () => {
    test('a ValidationError from moto is a non-retryable CloudRejected with the AWS code, and nothing is left behind', async () => {
      const aws = createAwsActivities({ clientsFor: moto.clientsFor });
      // The input schema refuses a timeout above the interval, as AWS does; an input that never went
      // through it (an activity called directly) meets AWS's own refusal.
      const input = lbInput(moto.settingsFor(network));
      input.loadBalancer.targetGroup.healthCheck = { ...input.loadBalancer.targetGroup.healthCheck, intervalSeconds: 5, timeoutSeconds: 10 };
      const { err, info } = await rejectsWithFailure(aws.ensureLoadBalancer(input), 'CloudRejected', false);
      assert.equal(info.awsCode, 'ValidationError');
      assert.equal(info.awsOperation, 'CreateTargetGroup');
      assert.equal(info.httpStatus, 400);
      assert.ok(typeof info.requestId === 'string' && info.requestId.length > 0, 'request id kept for AWS support');
      assert.match(err.message, /^AWS CreateTargetGroup failed: ValidationError: Health check timeout '10' must be smaller than or equal to the interval '5'/);
      assert.match(info.hint, /rejected CreateTargetGroup as invalid/);
      assert.equal((await allLoadBalancers(moto.clients())).length, 0, 'the target group comes first, so no load balancer was created');
    });

    test('a 500 from moto (an action it does not implement) is a retryable CloudTransient', async () => {
      const client = new ElasticLoadBalancingV2Client({ region: MOTO_REGION, endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS, maxAttempts: 1 });
      try {
        const { info } = await rejectsWithFailure(
          awsCall('DescribeTrustStores', (o) => client.send(new DescribeTrustStoresCommand({}), o)),
          'CloudTransient',
          true,
        );
        assert.equal(info.httpStatus, 500);
        assert.match(info.hint, /server error/);
      } finally {
        client.destroy();
      }
    });

    test('an unreachable endpoint is a retryable CloudTransient naming the network error', async () => {
      const aws = createAwsActivities({ clientsFor: defaultAwsClients });
      const endpoint = `http://127.0.0.1:${await closedPort()}`;
      const started = Date.now();
      const { err, info } = await rejectsWithFailure(
        aws.describeTargetHealth({
          aws: { region: MOTO_REGION, endpoint, subnetIds: network.subnetIds },
          targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/x/0123456789abcdef',
        }),
        'CloudTransient',
        true,
      );
      assert.equal(info.awsCode, 'ECONNREFUSED');
      assert.match(err.message, /^AWS DescribeTargetHealth failed: ECONNREFUSED/);
      assert.match(info.hint, /aws\.endpoint/);
      assert.ok(Date.now() - started < 15_000, 'the SDK gives up after its few retries');
    });
  });

  describe('defaultAwsClients', () => {
    test('works against an endpoint with credentials from the environment', async () => {
      const aws = createAwsActivities({ clientsFor: defaultAwsClients });
      const info = await aws.ensureLoadBalancer(lbInput(moto.settingsFor(network)));
      assert.deepEqual(info.created, { loadBalancer: true, targetGroup: true, listener: true });
    });

    test('keeps one set of clients per region and endpoint', () => {
      const base = { region: 'us-east-1', subnetIds: ['subnet-0a'] };
      const a = defaultAwsClients({ ...base, endpoint: moto.endpoint });
      assert.equal(defaultAwsClients({ ...base, endpoint: moto.endpoint, subnetIds: ['subnet-0b'] }), a, 'subnets do not matter');
      assert.notEqual(defaultAwsClients(base), a, 'another endpoint');
      assert.notEqual(defaultAwsClients({ ...base, region: 'eu-west-1', endpoint: moto.endpoint }), a, 'another region');
    });
  });

  describe('classification of codes moto cannot produce', () => {
    const meta = (httpStatusCode: number) => ({ httpStatusCode, requestId: 'req-1', attempts: 1, totalRetryDelay: 0 });
    const elb = (name: string, status: number, fault: 'client' | 'server' = 'client') =>
      Object.assign(new ElasticLoadBalancingV2ServiceException({ name, $fault: fault, $metadata: meta(status), message: `${name} happened` }), { Code: name });
    const ec2 = (name: string, status: number) =>
      Object.assign(new EC2ServiceException({ name, $fault: 'client', $metadata: meta(status), message: `${name} happened` }), { Code: name });

    const cases: [string, Error, string, RegExp][] = [
      ['Throttling (ELBv2)', elb('Throttling', 400), 'CloudTransient', /throttled/],
      ['ThrottlingException', elb('ThrottlingException', 400), 'CloudTransient', /throttled/],
      ['RequestLimitExceeded (EC2)', ec2('RequestLimitExceeded', 503), 'CloudTransient', /throttled/],
      ['InternalFailure 500', elb('InternalFailure', 500, 'server'), 'CloudTransient', /server error/],
      ['ServiceUnavailable 503', elb('ServiceUnavailable', 503, 'server'), 'CloudTransient', /server error/],
      ['AccessDenied', elb('AccessDenied', 403), 'CloudRejected', /may not call CreateLoadBalancer/],
      ['AccessDeniedException', elb('AccessDeniedException', 400), 'CloudRejected', /may not call CreateLoadBalancer/],
      ['UnauthorizedOperation (EC2)', ec2('UnauthorizedOperation', 403), 'CloudRejected', /may not call CreateLoadBalancer/],
      ['ValidationError', elb('ValidationError', 400), 'CloudRejected', /invalid/],
      ['InvalidConfigurationRequest', new InvalidConfigurationRequestException({ $metadata: meta(400), message: 'bad' }), 'CloudRejected', /invalid/],
      [
        'TooManyLoadBalancers',
        new TooManyLoadBalancersException({ $metadata: meta(400), message: 'quota' }),
        'CloudRejected',
        /quota is reached \(TooManyLoadBalancers/,
      ],
      ['TooManyTargets', elb('TooManyTargets', 400), 'CloudRejected', /Service Quotas/],
      ['another client error', elb('DuplicateListener', 400), 'CloudRejected', /a retry will not change that/],
    ];
    for (const [label, error, type, hint] of cases) {
      test(`${label} -> ${type}`, () => {
        const failure = awsFailure(error, 'CreateLoadBalancer');
        assert.ok(failure instanceof ApplicationFailure);
        assert.equal(failure.type, type);
        assert.equal(failure.nonRetryable, type === 'CloudRejected');
        const info = failureInfo(failure);
        assert.match(info?.hint ?? '', hint);
        assert.equal(typeof info?.awsCode, 'string');
        assert.equal(failure.cause, error, 'the SDK error stays as the cause');
      });
    }

    test('errors that are not from AWS pass through unchanged', () => {
      const bug = new TypeError('cannot read properties of undefined');
      assert.equal(awsFailure(bug, 'CreateLoadBalancer'), bug);
      const ours = ApplicationFailure.nonRetryable('already mapped', 'Conflict');
      assert.equal(awsFailure(ours, 'CreateLoadBalancer'), ours);
    });
  });
});
