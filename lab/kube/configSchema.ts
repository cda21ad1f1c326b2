/**
 * kubeadm.k8s.io/v1beta4 as kubeadm v1.37 decodes it (apis/kubeadm/v1beta4/types.go, read with
 * sigs.k8s.io/yaml's strict decoder): the fields of each kind, their Go types, and the errors the
 * decoder gives. A wrong shape (v1beta3's `extraArgs` map) is a type error, an unknown field a
 * strict-decoding error, both as kubeadm prints them. test/lab/kube/configContract.test.ts holds
 * this to the real kubeadm's verdicts.
 */

/** A field's type: a scalar, a struct, a list or a map (`go` is the type kubeadm's errors name). */
export type FieldType =
  | { kind: 'scalar'; go: 'string' | 'int32' | 'bool' }
  | { kind: 'struct'; go: string; fields: Record<string, FieldType>; embedded?: Record<string, string> }
  | { kind: 'list'; go: string; item: FieldType }
  | { kind: 'map'; go: string; value: FieldType }
  | { kind: 'any' };

const string: FieldType = { kind: 'scalar', go: 'string' };
const int32: FieldType = { kind: 'scalar', go: 'int32' };
const bool: FieldType = { kind: 'scalar', go: 'bool' };
// metav1.Duration and metav1.Time decode from strings; their own parse errors are not modelled.
const duration = string;
const strings: FieldType = { kind: 'list', go: '[]string', item: string };
const anything: FieldType = { kind: 'any' };

function struct(go: string, fields: Record<string, FieldType>, embedded: Record<string, string> = {}): FieldType {
  return { kind: 'struct', go, fields, embedded };
}

const arg = struct('Arg', { name: string, value: string });
const args: FieldType = { kind: 'list', go: '[]v1beta4.Arg', item: arg };
const envs: FieldType = {
  kind: 'list',
  go: '[]v1beta4.EnvVar',
  item: struct('EnvVar', { name: string, value: string, valueFrom: anything }, { name: 'EnvVar', value: 'EnvVar', valueFrom: 'EnvVar' }),
};
const hostPathMounts: FieldType = {
  kind: 'list',
  go: '[]v1beta4.HostPathMount',
  item: struct('HostPathMount', { name: string, hostPath: string, mountPath: string, readOnly: bool, pathType: string }),
};
const componentFields = { extraArgs: args, extraVolumes: hostPathMounts, extraEnvs: envs };
const embeddedComponent = { extraArgs: 'ControlPlaneComponent', extraVolumes: 'ControlPlaneComponent', extraEnvs: 'ControlPlaneComponent' };
const imageMeta = { imageRepository: string, imageTag: string };
const embeddedImageMeta = { imageRepository: 'ImageMeta', imageTag: 'ImageMeta' };
const apiEndpoint = struct('APIEndpoint', { advertiseAddress: string, bindPort: int32 });
const taints: FieldType = { kind: 'list', go: '[]v1.Taint', item: struct('Taint', { key: string, value: string, effect: string, timeAdded: string }) };
const nodeRegistration = struct('NodeRegistrationOptions', {
  name: string,
  criSocket: string,
  taints,
  kubeletExtraArgs: args,
  ignorePreflightErrors: strings,
  imagePullPolicy: string,
  imagePullSerial: bool,
});
const patches = struct('Patches', { directory: string });
const timeouts = struct(
  'Timeouts',
  Object.fromEntries(
    ['controlPlaneComponentHealthCheck', 'kubeletHealthCheck', 'kubernetesAPICall', 'etcdAPICall', 'tlsBootstrap', 'discovery', 'upgradeManifests'].map((k) => [
      k,
      duration,
    ]),
  ),
);
const bootstrapToken = struct('BootstrapToken', { token: string, description: string, ttl: duration, expires: string, usages: strings, groups: strings });
const controlPlaneComponent = struct('ControlPlaneComponent', componentFields);

/** The v1beta4 kinds the lab's kubeadm reads, by kind. */
export const V1BETA4: Record<string, FieldType> = {
  InitConfiguration: struct('InitConfiguration', {
    bootstrapTokens: { kind: 'list', go: '[]v1.BootstrapToken', item: bootstrapToken },
    dryRun: bool,
    nodeRegistration,
    localAPIEndpoint: apiEndpoint,
    certificateKey: string,
    skipPhases: strings,
    patches,
    timeouts,
  }),
  ClusterConfiguration: struct('ClusterConfiguration', {
    etcd: struct('Etcd', {
      local: struct(
        'LocalEtcd',
        { ...imageMeta, dataDir: string, extraArgs: args, extraEnvs: envs, serverCertSANs: strings, peerCertSANs: strings },
        embeddedImageMeta,
      ),
      external: struct('ExternalEtcd', { endpoints: strings, httpEndpoints: strings, caFile: string, certFile: string, keyFile: string }),
    }),
    networking: struct('Networking', { serviceSubnet: string, podSubnet: string, dnsDomain: string }),
    kubernetesVersion: string,
    controlPlaneEndpoint: string,
    apiServer: struct('APIServer', { ...componentFields, certSANs: strings }, embeddedComponent),
    controllerManager: controlPlaneComponent,
    scheduler: controlPlaneComponent,
    dns: struct('DNS', { ...imageMeta, disabled: bool }, embeddedImageMeta),
    proxy: struct('Proxy', { disabled: bool }),
    certificatesDir: string,
    imageRepository: string,
    featureGates: { kind: 'map', go: 'map[string]bool', value: bool },
    clusterName: string,
    encryptionAlgorithm: string,
    certificateValidityPeriod: duration,
    caCertificateValidityPeriod: duration,
  }),
  JoinConfiguration: struct('JoinConfiguration', {
    dryRun: bool,
    nodeRegistration,
    caCertPath: string,
    discovery: struct('Discovery', {
      bootstrapToken: struct('BootstrapTokenDiscovery', { token: string, apiServerEndpoint: string, caCertHashes: strings, unsafeSkipCAVerification: bool }),
      file: struct('FileDiscovery', { kubeConfigPath: string }),
      tlsBootstrapToken: string,
    }),
    controlPlane: struct('JoinControlPlane', { localAPIEndpoint: apiEndpoint, certificateKey: string }),
    skipPhases: strings,
    patches,
    timeouts,
  }),
  ResetConfiguration: struct('ResetConfiguration', {
    cleanupTmpDir: bool,
    certificatesDir: string,
    criSocket: string,
    dryRun: bool,
    force: bool,
    ignorePreflightErrors: strings,
    skipPhases: strings,
    unmountFlags: strings,
    timeouts,
  }),
};

/** What encoding/json calls a JSON value in its errors. */
function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  if (typeof value === 'boolean') return 'bool';
  return typeof value === 'object' ? 'object' : typeof value;
}

function fits(type: FieldType, value: unknown): boolean {
  // JSON null leaves a Go value at its zero value.
  if (value === null || type.kind === 'any') return true;
  if (type.kind === 'scalar')
    return type.go === 'string' ? typeof value === 'string' : type.go === 'bool' ? typeof value === 'boolean' : Number.isInteger(value);
  if (type.kind === 'list') return Array.isArray(value);
  return typeof value === 'object' && !Array.isArray(value);
}

/** The problems of one document: the first type error (encoding/json's), else every unknown field, sorted. */
export function decodeProblems(type: FieldType, doc: Record<string, unknown>): { typeError?: string; unknownFields: string[] } {
  const unknownFields: string[] = [];
  let typeError: string | undefined;
  // goPath: the Go field path encoding/json reports (embedded struct names included, no indexes);
  // jsonPath: the path of the strict decoder's "unknown field" (with indexes).
  const walk = (t: FieldType, value: unknown, owner: string, goPath: string, jsonPath: string): void => {
    if (typeError) return;
    if (!fits(t, value)) {
      const go = t.kind === 'struct' ? `v1beta4.${t.go}` : t.kind === 'any' ? '' : t.go;
      typeError = `json: cannot unmarshal ${jsonKind(value)} into Go struct field ${owner}.${goPath} of type ${go}`;
      return;
    }
    if (value === null) return;
    if (t.kind === 'list') (value as unknown[]).forEach((item, i) => walk(t.item, item, owner, goPath, `${jsonPath}[${i}]`));
    if (t.kind === 'map') for (const [k, v] of Object.entries(value as Record<string, unknown>)) walk(t.value, v, owner, goPath, `${jsonPath}.${k}`);
    if (t.kind !== 'struct') return;
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      const field = t.fields[key];
      const childJson = jsonPath ? `${jsonPath}.${key}` : key;
      if (!field) {
        unknownFields.push(childJson);
        continue;
      }
      const via = t.embedded?.[key];
      const childGo = [goPath, via, key].filter(Boolean).join('.');
      // encoding/json names the struct that holds the field (an embedded one's holder), then the full path.
      walk(field, v, t.go, childGo, childJson);
    }
  };
  const root = type as Extract<FieldType, { kind: 'struct' }>;
  const body = Object.fromEntries(Object.entries(doc).filter(([k]) => k !== 'apiVersion' && k !== 'kind'));
  walk(root, body, root.go, '', '');
  return { typeError, unknownFields: unknownFields.sort() };
}
