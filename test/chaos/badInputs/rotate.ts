/**
 * Bad inputs of RotateCertificateKey, each one mutation of the rotation tests' valid input.
 */
import { rotationInput } from '../../rotate/harness';
import { type BadInputCase, buildCases, type CaseSpec, drop, hostCases, manyHosts, replace, runOptionCases, set, setFrom, wholeInputCases } from './cases';

/** 3 control planes and a spare of cluster west. */
export function validRotateInput(): Record<string, unknown> {
  return rotationInput() as unknown as Record<string, unknown>;
}

const hosts = (i: Record<string, unknown>) => i.hosts as Array<Record<string, unknown>>;

const specs: CaseSpec[] = [
  ...wholeInputCases(),
  ['an empty object', 'clusterName', /expected string/i, replace(() => ({}))],
  ['clusterName missing', 'clusterName', /expected string/i, drop('clusterName')],
  ['clusterName with a slash', 'clusterName', /DNS-1123/, set('clusterName', 'west/../east')],
  ['clusterName with a shell command', 'clusterName', /DNS-1123/, set('clusterName', '`reboot`')],
  ['clusterName of 64 characters', 'clusterName', /<=\s*63/, set('clusterName', 'w'.repeat(64))],
  ['clusterName as a list', 'clusterName', /expected string/i, set('clusterName', ['west'])],
  ['a schedule pasted into the input', '(input)', /unknown field\(s\) "schedule"/, set('schedule', { every: '90m' })],
  ['no hosts', 'hosts', /at least one host/, set('hosts', [])],
  ['hosts missing', 'hosts', /expected array/i, drop('hosts')],
  ['hosts as one host object', 'hosts', /expected array/i, setFrom('hosts', (i) => hosts(i)[0])],
  ['501 hosts', 'hosts', /<=\s*500/, setFrom('hosts', (i) => manyHosts(hosts(i), 0, 501, 'worker'))],
  [
    'only workers',
    'hosts',
    /needs at least one host with role "control-plane" or "spare-control-plane"/,
    setFrom('hosts', (i) => hosts(i).map((h) => ({ ...h, role: 'worker' }))),
  ],
  ['two hosts with one name', 'hosts[2].name', /must be unique/, setFrom('hosts[2].name', (i) => hosts(i)[0].name)],
  ['two hosts with one address', 'hosts[1].address', /must be unique/, setFrom('hosts[1].address', (i) => hosts(i)[0].address)],
  ...hostCases('hosts[1]'),
  ['kubeconfigSecret with a path traversal', 'kubeconfigSecret', /secret name/, set('kubeconfigSecret', '../../etc/shadow')],
  ['kubeconfigSecret as an absolute path', 'kubeconfigSecret', /secret name/, set('kubeconfigSecret', '/root/.kube/config')],
  [
    'the kubeconfig pasted as kubeconfigSecret',
    'kubeconfigSecret',
    /secret name/,
    set('kubeconfigSecret', 'apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    token: abc'),
  ],
  ['a negative keepKeyUploadedWithinMinutes', 'keepKeyUploadedWithinMinutes', />=\s*0/, set('keepKeyUploadedWithinMinutes', -1)],
  ["keepKeyUploadedWithinMinutes past the key's life", 'keepKeyUploadedWithinMinutes', /<=\s*60/, set('keepKeyUploadedWithinMinutes', 180)],
  ['certificates threshold 0 days', 'certificates.thresholdDays', />=\s*1/, set('certificates', { thresholdDays: 0 })],
  ['certificates threshold of 10 years', 'certificates.thresholdDays', /<=\s*365/, set('certificates', { thresholdDays: 3650 })],
  ['certificates.enabled "no"', 'certificates.enabled', /expected boolean/i, set('certificates', { enabled: 'no' })],
  ['a negative restart wait', 'certificates.restartWaitSeconds', />=\s*5/, set('certificates', { restartWaitSeconds: -25 })],
  ['an API timeout of 0', 'certificates.apiTimeoutSeconds', />=\s*10/, set('certificates', { apiTimeoutSeconds: 0 })],
  ['an unknown certificates option', 'certificates', /unknown field\(s\) "renewCa"/, set('certificates', { renewCa: true })],
  ['a negative lock timeout', 'lockTimeoutMinutes', />=\s*1/, set('lockTimeoutMinutes', -90)],
  ['a lock timeout of a week', 'lockTimeoutMinutes', /<=\s*1440/, set('lockTimeoutMinutes', 10_080)],
  ['lock timeout as "90m"', 'lockTimeoutMinutes', /expected number/i, set('lockTimeoutMinutes', '90m')],
  ['a mesh issuer on neither side', 'meshIssuer.role', /west/, set('meshIssuer', { pairName: 'west-east', role: 'north' })],
  ['a mesh issuer threshold of 0 days', 'meshIssuer.thresholdDays', />=\s*1/, set('meshIssuer', { pairName: 'west-east', role: 'west', thresholdDays: 0 })],
  ['a mesh issuer without its pair', 'meshIssuer.pairName', /expected string|required/i, set('meshIssuer', { role: 'west' })],
  ...runOptionCases('check-expiration', 'renew-certificates'),
];

/** Every bad input of RotateCertificateKey. */
export function rotateCases(): BadInputCase[] {
  return buildCases(validRotateInput, specs);
}
