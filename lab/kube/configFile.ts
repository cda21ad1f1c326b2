/**
 * Reading a `--config` file as kubeadm v1.37 does (util/config/common.go, strict decoding): only
 * kubeadm.k8s.io/v1beta4 is accepted; older versions get kubeadm's "old API spec" error, v1 the
 * experimental-API error, kinds it does not know "unknown configuration APIs", and each document
 * is decoded strictly against its kind (configSchema.ts). Component configs (kubelet, kube-proxy)
 * are accepted and not read.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { UsageError } from './args';
import { decodeProblems, V1BETA4 } from './configSchema';
import { KubeadmError } from './errors';

/** The kubeadm version to use for each old API version (kubeadm's oldKnownAPIVersions). */
const OLD_API_VERSIONS: Record<string, string> = {
  'kubeadm.k8s.io/v1alpha1': 'v1.11',
  'kubeadm.k8s.io/v1alpha2': 'v1.12',
  'kubeadm.k8s.io/v1alpha3': 'v1.14',
  'kubeadm.k8s.io/v1beta1': 'v1.15',
  'kubeadm.k8s.io/v1beta2': 'v1.22',
  'kubeadm.k8s.io/v1beta3': 'v1.36',
};

/** Component configs kubeadm accepts beside its own kinds. */
const COMPONENT_CONFIGS = new Set(['kubelet.config.k8s.io/v1beta1/KubeletConfiguration', 'kubeproxy.config.k8s.io/v1alpha1/KubeProxyConfiguration']);

/** Go's %#v of a schema.GroupVersionKind. */
function gvkString(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return `schema.GroupVersionKind{Group:"${group}", Version:"${version}", Kind:"${kind}"}`;
}

/** sigs.k8s.io/yaml's text for a duplicate key: the line (in its document) and the key. */
function duplicateKey(text: string, fileLine: number, line: number): string {
  const key = (text.split('\n')[fileLine - 1] ?? '')
    .trim()
    .replace(/^-\s*/, '')
    .split(':')[0]
    .replace(/^["']|["']$/g, '');
  return `strict decoding error: yaml: unmarshal errors:\n  line ${line}: key ${JSON.stringify(key)} already set in map`;
}

/** The kubeadm documents of a config file, by kind (refused as kubeadm refuses them). */
export function readConfigDocuments(file: string): Map<string, Record<string, unknown>> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`unable to read config from "${file}" : ${(err as Error).message}`);
  }
  const parsed = parseAllDocuments(text).flatMap((doc) => {
    // A duplicate key is not a YAML syntax error for kubeadm: its strict decoder refuses it below.
    const broken = doc.errors.find((e) => e.code !== 'DUPLICATE_KEY');
    if (broken) throw new KubeadmError(`error converting YAML to JSON: ${broken.message}`);
    const obj = doc.toJS() as Record<string, unknown> | null;
    if (!obj) return [];
    const apiVersion = String(obj.apiVersion ?? '');
    const kind = String(obj.kind ?? '');
    // The decoder counts lines from the document's start.
    const duplicate = doc.errors.find((e) => e.code === 'DUPLICATE_KEY');
    const firstLine = text.slice(0, doc.contents?.range[0] ?? 0).split('\n').length;
    const duplicateLine = duplicate?.linePos ? duplicate.linePos[0].line - firstLine + 1 : undefined;
    return [{ obj, apiVersion, kind, duplicate: duplicate?.linePos ? { line: duplicateLine!, fileLine: duplicate.linePos[0].line } : undefined }];
  });
  // kubeadm decodes in the order of the GVKs' strings (ClusterConfiguration before InitConfiguration).
  parsed.sort((x, y) => (`${x.apiVersion}, Kind=${x.kind}` < `${y.apiVersion}, Kind=${y.kind}` ? -1 : 1));
  const docs = new Map<string, Record<string, unknown>>();
  const unknown: string[] = [];
  for (const { obj, apiVersion, kind, duplicate } of parsed) {
    const gvk = gvkString(apiVersion, kind);
    if (OLD_API_VERSIONS[apiVersion]) {
      throw new KubeadmError(
        `your configuration file uses an old API spec: ${JSON.stringify(apiVersion)} (kind: ${JSON.stringify(kind)}). Please use kubeadm ${OLD_API_VERSIONS[apiVersion]} instead and run 'kubeadm config migrate --old-config old-config-file --new-config new-config-file', which will write the new, similar spec using a newer API version.`,
      );
    }
    if (apiVersion === 'kubeadm.k8s.io/v1')
      throw new KubeadmError(
        `experimental API spec: ${JSON.stringify(apiVersion)} (kind: ${JSON.stringify(kind)}) is not allowed. You can use the --allow-experimental-api flag if the command supports it.`,
      );
    const schema = apiVersion === 'kubeadm.k8s.io/v1beta4' ? V1BETA4[kind] : undefined;
    if (!schema) {
      if (!COMPONENT_CONFIGS.has(`${apiVersion}/${kind}`)) unknown.push(gvk);
      continue;
    }
    const { typeError, unknownFields } = decodeProblems(schema, obj);
    if (typeError) throw new KubeadmError(`error unmarshaling configuration ${gvk}: ${typeError}`);
    if (duplicate) throw new KubeadmError(`error unmarshaling configuration ${gvk}: ${duplicateKey(text, duplicate.fileLine, duplicate.line)}`);
    if (unknownFields.length > 0)
      throw new KubeadmError(
        `error unmarshaling configuration ${gvk}: strict decoding error: ${unknownFields.map((f) => `unknown field ${JSON.stringify(f)}`).join(', ')}`,
      );
    docs.set(kind, obj);
  }
  if (unknown.length > 0) throw new KubeadmError(`unknown configuration APIs: []schema.GroupVersionKind{${unknown.join(', ')}}`);
  return docs;
}
