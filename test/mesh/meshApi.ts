/**
 * What the mesh activities' API-server tests stand on: one API server seen as two clusters (a
 * kubeconfig with a `west` and an `east` context), an adopted trust anchor and issuer on disk, and the
 * inputs that name them.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { createIssuer, createTrustAnchor, type KeyedCertificate } from '../../activities/mesh/pki';
import type { TestApiServer } from '../support/apiserver';

/** Creates an object; one already there counts as created. */
export async function put(api: TestApiServer, apiPath: string, body: unknown): Promise<void> {
  const res = await api.request('POST', apiPath, body);
  assert.ok(res.status === 201 || res.status === 409, `${apiPath}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
}

/** Writes the API server's kubeconfig with two contexts, `west` (current) and `east`, both pointing at it. */
export async function writeTwoContextKubeconfig(api: TestApiServer, file: string): Promise<void> {
  const doc = parse(api.kubeconfig) as { contexts: Array<{ name: string; context: Record<string, string> }>; 'current-context': string };
  const base = doc.contexts[0];
  doc.contexts = [
    { name: 'west', context: base.context },
    { name: 'east', context: base.context },
  ];
  doc['current-context'] = 'west';
  await writeFile(file, stringify(doc), { mode: 0o600 });
}

/** A trust anchor and an issuer it signed, written to `anchors.crt`, `issuer.crt` and `issuer.key` in `dir`. */
export async function writeAdoptedTrust(dir: string): Promise<{ anchor: KeyedCertificate; issuer: KeyedCertificate }> {
  const file = (name: string) => path.join(dir, name);
  const anchor = await createTrustAnchor(87_600);
  const issuer = await createIssuer(anchor, 8760);
  await writeFile(file('anchors.crt'), anchor.certificatePem);
  await writeFile(file('issuer.crt'), issuer.certificatePem);
  await writeFile(file('issuer.key'), issuer.keyPem, { mode: 0o600 });
  return { anchor, issuer };
}

/** The pair's cluster inputs: the two contexts of one kubeconfig file. */
export function clusterInputs(kubeconfig: string) {
  return {
    west: { name: 'west', kubeconfig: { file: kubeconfig }, context: 'west', set: [] },
    east: { name: 'east', kubeconfig: { file: kubeconfig }, context: 'east', set: [] },
  };
}

/** The adopt-mode trust input; east's issuer files are `<eastIssuer>.crt` and `.key`. */
export function adoptedTrustInput(file: (name: string) => string, eastIssuer: string) {
  return {
    mode: 'adopt' as const,
    anchors: { file: file('anchors.crt') },
    issuers: {
      west: { certificate: { file: file('issuer.crt') }, key: { file: file('issuer.key') } },
      east: { certificate: { file: file(`${eastIssuer}.crt`) }, key: { file: file(`${eastIssuer}.key`) } },
    },
  };
}

/** East's Linkerd gateway Service (a LoadBalancer, gateway and probe ports). */
export function linkerdGatewayService() {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'linkerd-gateway' },
    spec: {
      type: 'LoadBalancer',
      ports: [
        { name: 'mc-gateway', port: 4143 },
        { name: 'mc-probe', port: 4191 },
      ],
    },
  };
}

/** A podinfo Service (its http port), named and labelled as given: east's own, or its mirror on west. */
export function podinfoService(name: string, labels?: Record<string, string>) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, ...(labels ? { labels } : {}) },
    spec: { ports: [{ name: 'http', port: 9898 }] },
  };
}

/** The mirror's Endpoints, pointing at these addresses on the gateway's port. */
export function mirrorEndpoints(ips: string[]) {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'podinfo-east', namespace: 'test' },
    subsets: [{ addresses: ips.map((ip) => ({ ip })), ports: [{ name: 'http', port: 4143 }] }],
  };
}
