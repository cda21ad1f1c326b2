/**
 * Bad inputs of FailoverToEast, each one mutation of the failover tests' valid input with a control
 * plane section (3 registered control planes and a spare), so that targets and spares can be broken.
 */
import { failoverInput } from '../../failover/fakeFailoverWorld';
import { bootstrapInput } from '../../support/inputs';
import { type BadInputCase, buildCases, type CaseSpec, drop, hostCases, manyHosts, replace, runOptionCases, set, setFrom, wholeInputCases } from './cases';

const FINGERPRINT = 'SHA256:' + 'A'.repeat(43);
const ssh = { user: 'root', port: 22, privateKey: { file: '/etc/kubeha/ssh/id_ed25519' }, hostKeyFingerprint: FINGERPRINT };

/** The pair west → east with one service and the spare control plane section. */
export function validFailoverInput(): Record<string, unknown> {
  return {
    ...failoverInput(),
    controlPlane: {
      aws: { region: 'us-east-1', subnetIds: ['subnet-0a1b2c3d'] },
      targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/kube-api-west/1',
      controlPlanes: [
        { name: 'cp-1', address: '10.0.1.11', role: 'control-plane', ssh },
        { name: 'cp-2', address: '10.0.1.12', role: 'control-plane', ssh },
        { name: 'cp-3', address: '10.0.1.13', role: 'control-plane', ssh },
      ],
      spares: [{ name: 'spare-1', address: '10.0.2.11', role: 'spare-control-plane', ssh }],
      minHealthyTargets: 1,
      healthyDeadlineSeconds: 300,
    },
  } as Record<string, unknown>;
}

const CP = 'controlPlane';
const GTM = {
  hostedZoneId: 'Z0123456789ABC',
  zoneName: 'example.com',
  recordName: 'podinfo.example.com',
  west: { values: ['203.0.113.10'] },
  east: { values: ['198.51.100.10'] },
};
const controlPlanes = (i: Record<string, unknown>) => (i.controlPlane as Record<string, unknown>).controlPlanes as Array<Record<string, unknown>>;

const specs: CaseSpec[] = [
  ...wholeInputCases(),
  ['an empty object', 'west', /expected object/i, replace(() => ({}))],
  ['west missing', 'west', /expected object/i, drop('west')],
  ['west name in capitals', 'west.name', /DNS-1123/, set('west.name', 'West')],
  ['east named like west', 'east.name', /must differ from west\.name/, set('east.name', 'west')],
  [
    "east with west's kubeconfig",
    'east.kubeconfigSecret',
    /east must reach another cluster/,
    setFrom('east.kubeconfigSecret', (i) => (i.west as Record<string, unknown>).kubeconfigSecret),
  ],
  ['a kubeconfig path instead of a secret name', 'west.kubeconfigSecret', /secret name/, set('west.kubeconfigSecret', '/root/.kube/config')],
  ['a kubeconfig secret with a path traversal', 'east.kubeconfigSecret', /secret name/, set('east.kubeconfigSecret', 'clusters/../../../etc/shadow')],
  ['a kubeconfig file next to the secret name', 'west', /unknown field\(s\) "kubeconfig"/, set('west.kubeconfig', { file: '/root/.kube/config' })],
  ['a gateway namespace in capitals', 'east.gateway.namespace', /DNS-1123/, set('east.gateway', { namespace: 'Linkerd-Multicluster' })],
  ['no services', 'services', /at least one service/, set('services', [])],
  [
    '51 services',
    'services',
    /<=\s*50/,
    set(
      'services',
      Array.from({ length: 51 }, (_, n) => ({ namespace: 'test', name: `svc-${n}` })),
    ),
  ],
  ['a service with an empty namespace', 'services[0].namespace', />=\s*1/, set('services[0].namespace', '')],
  [
    'two services on one split object',
    'services[1]',
    /same split object/,
    setFrom('services', (i) => [...(i.services as unknown[]), { namespace: 'test', name: 'web', split: { name: 'podinfo' } }]),
  ],
  ['an Istio VirtualService split', 'services[0].split.kind', /Invalid option/i, set('services[0].split', { kind: 'VirtualService' })],
  [
    'a split apiVersion that serves no split',
    'services[0].split.apiVersion',
    /Invalid option/i,
    set('services[0].split', { kind: 'TrafficSplit', apiVersion: 'v1' }),
  ],
  [
    'a TrafficSplit in the HTTPRoute API group',
    'services[0].split.apiVersion',
    /does not serve this kind/,
    set('services[0].split', { kind: 'TrafficSplit', apiVersion: 'gateway.networking.k8s.io/v1' }),
  ],
  ["east backend the same as west's", 'services[0].eastBackend', /traffic would never leave west/, set('services[0].eastBackend', 'podinfo')],
  ['steps going down', 'steps', /must increase/, set('steps', [100, 50])],
  ['steps not ending at 100', 'steps', /must end at 100/, set('steps', [50, 90])],
  ['no steps', 'steps', />=\s*1|too small/i, set('steps', [])],
  ['a step of 0 percent', 'steps[0]', />=\s*1/, set('steps', [0, 100])],
  ['a step of 150 percent', 'steps[1]', /<=\s*100/, set('steps', [50, 150])],
  ['a fractional step', 'steps[0]', /expected int/i, set('steps', [50.5, 100])],
  ['steps as a string', 'steps', /expected array/i, set('steps', '50,100')],
  ['11 steps', 'steps', /<=\s*10|too big/i, set('steps', [10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100])],
  ['a negative approval timeout', 'approval.timeoutMinutes', />=\s*0\.01/, set('approval', { required: true, timeoutMinutes: -1 })],
  ['an approval timeout of 0', 'approval.timeoutMinutes', />=\s*0\.01/, set('approval', { required: true, timeoutMinutes: 0 })],
  ['approval onTimeout "ignore"', 'approval.onTimeout', /Invalid option/i, set('approval', { required: true, onTimeout: 'ignore' })],
  ['approval.required "yes"', 'approval.required', /expected boolean/i, set('approval', { required: 'yes' })],
  ['a negative hysteresis', 'failback.hysteresisSeconds', />=\s*1/, set('failback.hysteresisSeconds', -600)],
  ['failback steps going up', 'failback.steps', /must decrease/, set('failback.steps', [50, 100])],
  ['failback steps not ending at 0', 'failback.steps', /must end at 0/, set('failback.steps', [50, 10])],
  ['a failback check interval of 0', 'failback.checkIntervalSeconds', />=\s*1/, set('failback.checkIntervalSeconds', 0)],
  ['a negative step pause', 'stepPauseSeconds', />=\s*0/, set('stepPauseSeconds', -10)],
  ['a step pause of 30 years', 'stepPauseSeconds', /<=\s*3600/, set('stepPauseSeconds', 1e9)],
  [
    "a spare listed at a registered target's address",
    `${CP}.spares[0].address`,
    /also a control plane's address/,
    setFrom(`${CP}.spares[0].address`, (i) => controlPlanes(i)[0].address),
  ],
  ["a spare with a control plane's name", `${CP}.spares[0].name`, /must be unique/, setFrom(`${CP}.spares[0].name`, (i) => controlPlanes(i)[1].name)],
  [
    'a control plane listed twice',
    `${CP}.controlPlanes[2].address`,
    /must be unique/,
    setFrom(`${CP}.controlPlanes[2].address`, (i) => controlPlanes(i)[0].address),
  ],
  ['a worker listed as a spare', `${CP}.spares[0].role`, /must be "spare-control-plane"/, set(`${CP}.spares[0].role`, 'worker')],
  [
    'the spare listed among the control planes',
    `${CP}.controlPlanes[2].role`,
    /must be "control-plane"/,
    set(`${CP}.controlPlanes[2].role`, 'spare-control-plane'),
  ],
  ['controlPlane.recover "yes"', `${CP}.recover`, /Invalid option/i, set(`${CP}.recover`, 'yes')],
  ['controlPlane.recovery as a workflow id', `${CP}.recovery`, /expected object/i, set(`${CP}.recovery`, 'recover-control-plane-west')],
  [
    "a recovery of another cluster's hosts",
    `${CP}.recovery.cluster.hosts`,
    /has no control-plane or spare host at 10\.0\.1\.11/,
    set(`${CP}.recovery`, {
      cluster: {
        ...bootstrapInput(),
        hosts: bootstrapInput().hosts.map((h, n) => ({ ...h, address: `10.9.0.${n + 1}` })),
      },
    }),
  ],
  ['no spares', `${CP}.spares`, />=\s*1|too small/i, set(`${CP}.spares`, [])],
  ['8 control planes', `${CP}.controlPlanes`, /<=\s*7|too big/i, setFrom(`${CP}.controlPlanes`, (i) => manyHosts(controlPlanes(i), 0, 8))],
  ['7 control planes and a spare (8 etcd voters)', `${CP}.spares`, /at most 7/, setFrom(`${CP}.controlPlanes`, (i) => manyHosts(controlPlanes(i), 0, 7))],
  ['more healthy targets required than control planes exist', `${CP}.minHealthyTargets`, /more than the 3 control plane/, set(`${CP}.minHealthyTargets`, 5)],
  ['minHealthyTargets 0', `${CP}.minHealthyTargets`, />=\s*1/, set(`${CP}.minHealthyTargets`, 0)],
  [
    'a load balancer ARN as the target group',
    `${CP}.targetGroupArn`,
    /target group ARN/,
    set(`${CP}.targetGroupArn`, 'arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/kube-api-west/1'),
  ],
  ['a negative spare healthy deadline', `${CP}.healthyDeadlineSeconds`, />=\s*10/, set(`${CP}.healthyDeadlineSeconds`, -300)],
  ['an AWS region on Mars', `${CP}.aws.region`, /AWS region/, set(`${CP}.aws.region`, 'mars-north-1a')],
  // The GTM record of a service (issue cases: zone missing, TTL out of range, one target on both sides, a name outside the zone).
  ['a GTM record without its hosted zone', 'services[0].gtm.hostedZoneId', /expected string/i, set('services[0].gtm', { ...GTM, hostedZoneId: undefined })],
  ['a GTM zone id that is a domain name', 'services[0].gtm.hostedZoneId', /hosted zone id/, set('services[0].gtm', { ...GTM, hostedZoneId: 'example.com' })],
  ['a GTM TTL of two days', 'services[0].gtm.ttl', /at most 86400/, set('services[0].gtm', { ...GTM, ttl: 172_800 })],
  ['a negative GTM TTL', 'services[0].gtm.ttl', /0 or more/, set('services[0].gtm', { ...GTM, ttl: -1 })],
  [
    'one GTM target on both sides',
    'services[0].gtm.east.values',
    /must differ from west/,
    set('services[0].gtm', { ...GTM, east: { values: ['203.0.113.10'] } }),
  ],
  [
    'a GTM record outside its zone',
    'services[0].gtm.recordName',
    /inside the hosted zone/,
    set('services[0].gtm', { ...GTM, recordName: 'podinfo.example.org' }),
  ],
  [
    'a GTM health check that is not an id',
    'services[0].gtm.west.healthCheckId',
    /health check id/,
    set('services[0].gtm', { ...GTM, west: { values: ['203.0.113.10'], healthCheckId: 'west-check' } }),
  ],
  ['a GTM record type MX', 'services[0].gtm.type', /Invalid option/i, set('services[0].gtm', { ...GTM, type: 'MX' })],
  [
    'two services on one GTM record',
    'services[1].gtm.recordName',
    /two services cannot move one set of clients/,
    setFrom('services', (i) => [
      { ...(i.services as Record<string, unknown>[])[0], gtm: GTM },
      { namespace: 'test', name: 'web', gtm: GTM },
    ]),
  ],
  [
    'a Route 53 endpoint with a password',
    'route53.endpoint',
    /credentials|password|user/i,
    set('route53', { endpoint: 'https://user:secret@route53.example' }),
  ],
  [
    "an east split whose west backend is east's own service",
    'services[0].eastSplit.westBackend',
    /east's clients would never leave east/,
    set('services[0].eastSplit', { westBackend: 'podinfo' }),
  ],
  ['an east split of an unknown kind', 'services[0].eastSplit.kind', /Invalid option/i, set('services[0].eastSplit', { kind: 'VirtualService' })],
  [
    'an east HTTPRoute with an SMI apiVersion',
    'services[0].eastSplit.apiVersion',
    /does not serve this kind/,
    set('services[0].eastSplit', { kind: 'HTTPRoute', apiVersion: 'split.smi-spec.io/v1alpha2' }),
  ],
  ...hostCases(`${CP}.spares[0]`),
  ...runOptionCases('precheck', 'shift-traffic'),
];

/** Every bad input of FailoverToEast. */
export function failoverCases(): BadInputCase[] {
  return buildCases(validFailoverInput, specs);
}
