/**
 * The test API server's PKI, made with the openssl CLI: a CA, the serving certificate, the
 * service-account keys and client certificates; and the kubeconfigs and token file built on them.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import type { StaticToken } from './apiserver';

const run = promisify(execFile);

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || (err as Error).message}`);
  }
}

const NEW_EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Issues `<name>.crt`/`<name>.key` signed by `ca.crt`; `extensions` go into an openssl extfile. */
async function issueCert(dir: string, name: string, subject: string, extensions: string[]): Promise<{ cert: string; key: string }> {
  await openssl(['req', '-new', ...NEW_EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], dir);
  await writeFile(path.join(dir, `${name}.ext`), `${extensions.join('\n')}\n`);
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-sha256',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    ],
    dir,
  );
  return { cert: await readFile(path.join(dir, `${name}.crt`), 'utf8'), key: await readFile(path.join(dir, `${name}.key`), 'utf8') };
}

/** CA, serving certificate for 127.0.0.1/localhost, service-account key pair. */
export async function createPki(dir: string): Promise<void> {
  await openssl(
    [
      'req',
      '-x509',
      ...NEW_EC_KEY,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '2',
      '-subj',
      '/CN=kubeha-test-ca',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    ],
    dir,
  );
  await issueCert(dir, 'apiserver', '/CN=kube-apiserver', [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc',
  ]);
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'sa.key'], dir);
  await openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
}

export function clientCertFor(dir: string, user: string, groups: string[]): Promise<{ cert: string; key: string }> {
  const fileName = `client-${user.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
  const subject = `/CN=${user}${groups.map((group) => `/O=${group}`).join('')}`;
  return issueCert(dir, fileName, subject, ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth']);
}

const b64 = (pem: string) => Buffer.from(pem).toString('base64');

export function kubeconfigWithUserEntry(server: string, caPem: string, user: string, entry: Record<string, unknown>): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kubeha-test', cluster: { server, 'certificate-authority-data': b64(caPem) } }],
    users: [{ name: user, user: entry }],
    contexts: [{ name: `${user}@kubeha-test`, context: { cluster: 'kubeha-test', user } }],
    'current-context': `${user}@kubeha-test`,
  });
}

export function kubeconfigYaml(server: string, caPem: string, user: string, client: { cert: string; key: string }): string {
  return kubeconfigWithUserEntry(server, caPem, user, { 'client-certificate-data': b64(client.cert), 'client-key-data': b64(client.key) });
}

/** The `--token-auth-file` format: `token,user,uid,"group1,group2"`. */
export function tokenFileCsv(tokens: StaticToken[]): string {
  return tokens.map((t) => `${t.token},${t.user},${t.user},"${(t.groups ?? []).join(',')}"\n`).join('');
}

// ------------------------------------------------------------------------------------------ processes
