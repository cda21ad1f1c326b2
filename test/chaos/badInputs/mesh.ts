/**
 * Bad inputs of LinkMeshClusters, each one mutation of a valid pair (the mesh tests' input, with a
 * trust, Helm values and an explicit east API address so that every part can be broken).
 */
import { type BadInputCase, buildCases, type CaseSpec, drop, replace, runOptionCases, set, setFrom, wholeInputCases } from './cases';

/** West and east with their kubeconfigs, one exported service, generated trust. */
export function validMeshInput(): Record<string, unknown> {
  return {
    west: { name: 'west', kubeconfig: { file: '/etc/kubeha/west.kubeconfig' }, context: 'west', set: ['proxyInit.runAsRoot=true'] },
    east: { name: 'east', kubeconfig: { file: '/etc/kubeha/east.kubeconfig' }, context: 'east' },
    trust: { mode: 'generate', anchorValidityHours: 87_600, issuerValidityHours: 8760 },
    linkCommand: 'auto',
    eastApiServerAddress: 'https://east-api.internal:6443',
    services: [{ namespace: 'test', name: 'podinfo' }],
    trafficSplit: { kind: 'auto', localWeight: 100, remoteWeight: 0 },
    timeouts: { checkSeconds: 600, checkIntervalSeconds: 15, rolloutSeconds: 600, mirrorSeconds: 300 },
    onFailure: 'fail',
  };
}

const ADOPTED_TRUST = {
  mode: 'adopt',
  anchors: { file: '/etc/kubeha/trust/ca.crt' },
  issuers: {
    west: { certificate: { file: '/etc/kubeha/trust/west-issuer.crt' }, key: { file: '/etc/kubeha/trust/west-issuer.key' } },
    east: { certificate: { file: '/etc/kubeha/trust/east-issuer.crt' }, key: { file: '/etc/kubeha/trust/east-issuer.key' } },
  },
};

const services = (i: Record<string, unknown>) => i.services as Array<Record<string, unknown>>;

const specs: CaseSpec[] = [
  ...wholeInputCases(),
  ['an empty object', 'west', /expected object/i, replace(() => ({}))],
  ['west missing', 'west', /expected object/i, drop('west')],
  ['east as a context name only', 'east', /expected object/i, set('east', 'east')],
  ['west name in capitals', 'west.name', /DNS-1123/, set('west.name', 'West')],
  ['east named like west', 'east.name', /must differ from west\.name/, set('east.name', 'west')],
  [
    "east reaching west's cluster (same kubeconfig and context)",
    'east.kubeconfig',
    /east must reach another cluster/,
    replace((i) => ({ ...i, east: { name: 'east', kubeconfig: { file: '/etc/kubeha/west.kubeconfig' }, context: 'west' } })),
  ],
  ['a kubeconfig pasted inline', 'west.kubeconfig', /never the secret itself/, set('west.kubeconfig', 'apiVersion: v1\nkind: Config\nclusters: []')],
  ['a relative kubeconfig path', 'east.kubeconfig.file', /absolute path/, set('east.kubeconfig', { file: 'east.kubeconfig' })],
  ['a kubeconfig path with a NUL byte', 'east.kubeconfig.file', /control characters/, set('east.kubeconfig', { file: '/etc/kubeha/east.kubeconfig\u0000' })],
  ['a context with a shell command', 'west.context', /kubeconfig context name/, set('west.context', 'west; kubectl delete ns --all')],
  ['an empty context', 'west.context', />=\s*1/, set('west.context', '')],
  ['a context of 300 characters', 'east.context', /<=\s*253/, set('east.context', 'c'.repeat(300))],
  ['Helm values setting the issuer', 'west.set[0]', /identity settings come from the trust input/, set('west.set', ['identity.issuer.tls.crtPEM=abc'])],
  ['Helm values with a space', 'west.set[0]', /without spaces/, set('west.set', ['proxyInit.runAsRoot true'])],
  ['Helm values as one string', 'west.set', /expected array/i, set('west.set', 'proxyInit.runAsRoot=true')],
  [
    'both clusters marked primary',
    'west',
    /unknown field\(s\) "primary"/,
    replace((i) => {
      (i.west as Record<string, unknown>).primary = true;
      (i.east as Record<string, unknown>).primary = true;
      return i;
    }),
  ],
  ['an unknown trust mode', 'trust.mode', /Invalid discriminator value/i, set('trust', { mode: 'import' })],
  ['adopted trust without anchors', 'trust.anchors', /expected object/i, setFrom('trust', () => ({ ...ADOPTED_TRUST, anchors: undefined }))],
  ['adopted anchors at a relative path', 'trust.anchors.file', /absolute path/, setFrom('trust', () => ({ ...ADOPTED_TRUST, anchors: { file: 'ca.crt' } }))],
  [
    'an issuer key pasted inline',
    'trust.issuers.west.key',
    /never the secret itself/,
    setFrom('trust', () => ({
      ...ADOPTED_TRUST,
      issuers: { ...ADOPTED_TRUST.issuers, west: { ...ADOPTED_TRUST.issuers.west, key: '-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----' } },
    })),
  ],
  [
    'adopted trust without the east issuer',
    'trust.issuers.east',
    /expected object/i,
    setFrom('trust', () => ({ ...ADOPTED_TRUST, issuers: { west: ADOPTED_TRUST.issuers.west } })),
  ],
  [
    'the anchor key handed in with adopted trust',
    'trust',
    /unknown field\(s\) "anchorKey"/,
    setFrom('trust', () => ({ ...ADOPTED_TRUST, anchorKey: { file: '/etc/kubeha/trust/ca.key' } })),
  ],
  ['a negative anchor validity', 'trust.anchorValidityHours', />=\s*24/, set('trust.anchorValidityHours', -1)],
  ['an issuer valid for 100 000 years', 'trust.issuerValidityHours', /<=\s*87600/, set('trust.issuerValidityHours', 876_000_000)],
  ['anchor validity as "10y"', 'trust.anchorValidityHours', /expected number/i, set('trust.anchorValidityHours', '10y')],
  ['an unknown link command', 'linkCommand', /Invalid option/i, set('linkCommand', 'link --force')],
  ['east API over plain http', 'eastApiServerAddress', /https URL/, set('eastApiServerAddress', 'http://east-api.internal:6443')],
  [
    'east API with a password in the URL',
    'eastApiServerAddress',
    /user name or password/,
    set('eastApiServerAddress', 'https://admin:s3cret@east-api.internal:6443'),
  ],
  ['east API as host:port', 'eastApiServerAddress', /https URL/, set('eastApiServerAddress', 'east-api.internal:6443')],
  ['one service exported twice', 'services[1]', /duplicates services\[0\]/, setFrom('services', (i) => [...services(i), { ...services(i)[0] }])],
  ['a service namespace in capitals', 'services[0].namespace', /DNS-1123/, set('services[0].namespace', 'Test')],
  ['a service whose mirror name exceeds 63 characters', 'services[0].name', /would exceed 63 characters/, set('services[0].name', 's'.repeat(60))],
  [
    '201 services',
    'services',
    /<=\s*200/,
    set(
      'services',
      Array.from({ length: 201 }, (_, n) => ({ namespace: 'test', name: `svc-${n}` })),
    ),
  ],
  ['services as a comma-separated string', 'services', /expected array/i, set('services', 'test/podinfo,test/web')],
  ['a service without a name', 'services[0].name', /expected string/i, drop('services[0].name')],
  ['both split weights 0', 'trafficSplit.remoteWeight', /cannot both be 0/, set('trafficSplit', { localWeight: 0, remoteWeight: 0 })],
  ['a negative split weight', 'trafficSplit.localWeight', />=\s*0/, set('trafficSplit', { localWeight: -50 })],
  ['an Istio traffic split', 'trafficSplit.kind', /Invalid option/i, set('trafficSplit', { kind: 'istio' })],
  ['a traffic split without services', 'trafficSplit', /needs services/, set('services', [])],
  ['a negative check timeout', 'timeouts.checkSeconds', />=\s*10/, set('timeouts.checkSeconds', -1)],
  ['a check interval of 0', 'timeouts.checkIntervalSeconds', />=\s*1/, set('timeouts.checkIntervalSeconds', 0)],
  ['a rollout timeout of 4 months', 'timeouts.rolloutSeconds', /<=\s*7200/, set('timeouts.rolloutSeconds', 10_000_000)],
  ['mirror timeout as a string', 'timeouts.mirrorSeconds', /expected number/i, set('timeouts.mirrorSeconds', '300')],
  ['an unknown timeout', 'timeouts', /unknown field\(s\) "linkSeconds"/, set('timeouts.linkSeconds', 60)],
  ['a pair name with punctuation', 'pairName', /DNS-1123/, set('pairName', 'west<->east')],
  ...runOptionCases('link', 'export'),
];

/** Every bad input of LinkMeshClusters. */
export function meshCases(): BadInputCase[] {
  return buildCases(validMeshInput, specs);
}
