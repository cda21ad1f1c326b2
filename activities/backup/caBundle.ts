/**
 * The cluster's CA material (what a rebuilt control plane needs to keep its identity), sealed with
 * kubeha's codec keys before it leaves the worker. Files are read over the SSH channel's stdout and kept
 * out of heartbeats and logs; only the sealed bytes go to S3.
 */
import { temporal } from '@temporalio/proto';
import type { HostSpec } from '../../common/inputs/shared';
import { EncryptionCodec } from '../../lib/codec/encryptionCodec';
import type { Keyring } from '../../lib/codec/keyring';
import { ErrorType } from '../../common/errors';
import { hostFailure, type HostRunner, shellWord } from '../hosts/context';

/** kubeadm's CA files under /etc/kubernetes/pki, relative to it. */
export const CA_FILES = ['ca.crt', 'ca.key', 'sa.key', 'sa.pub', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'etcd/ca.crt', 'etcd/ca.key'] as const;
const PKI_DIR = '/etc/kubernetes/pki';

/** The plain bundle: file name to content. Lives only inside the activity (and `kubeha backup verify`). */
export interface CaBundle {
  version: 1;
  clusterName: string;
  files: Record<string, string>;
  /** Files the host did not have. */
  missing: string[];
}

/** What the read command exits with for a file the host does not have. */
const MISSING = 3;

/**
 * Reads the CA files of one host. Each file comes back on the channel's stdout as a secret output
 * (never streamed to heartbeats or logs: the shell's readFile streams file content to them).
 */
export async function readCaBundle(run: HostRunner, host: HostSpec, clusterName: string): Promise<CaBundle> {
  const bundle: CaBundle = { version: 1, clusterName, files: {}, missing: [] };
  for (const name of CA_FILES) {
    const file = shellWord(`${PKI_DIR}/${name}`);
    const result = await run.run(host, {
      command: `if [ -f ${file} ]; then cat ${file}; else exit ${MISSING}; fi`,
      label: `read pki/${name}`,
      secretOutput: true,
    });
    if (result.exitCode === MISSING) bundle.missing.push(name);
    else if (result.exitCode !== 0)
      throw hostFailure({
        type: ErrorType.CommandFailed,
        host,
        message: `reading ${PKI_DIR}/${name} exited ${result.exitCode}`,
        retryable: false,
        hint: 'kubeha reads the CA files as root (or with sudo)',
        result: { ...result, stdout: '' },
      });
    else bundle.files[name] = result.stdout;
  }
  return bundle;
}

const ENCODING = 'json/kubeha-ca-bundle';

/** Seals the bundle as an encrypted Temporal payload (the codec's own AES-256-GCM and key ids), serialized. */
export function sealCaBundle(keyring: Keyring, bundle: CaBundle): Buffer {
  const plain = { metadata: { encoding: Buffer.from(ENCODING) }, data: Buffer.from(JSON.stringify(bundle)) };
  const sealed = new EncryptionCodec(keyring).seal(plain);
  return Buffer.from(temporal.api.common.v1.Payload.encode(sealed).finish());
}

/** Opens a sealed bundle; throws the codec's error (unknown key, tampered) as it is. */
export function openCaBundle(keyring: Keyring, sealed: Buffer): CaBundle {
  const payload = new EncryptionCodec(keyring).open(temporal.api.common.v1.Payload.decode(sealed));
  const encoding = Buffer.from(payload.metadata?.encoding ?? new Uint8Array()).toString();
  if (encoding !== ENCODING) throw new Error(`sealed object is not a kubeha CA bundle (encoding "${encoding}")`);
  return JSON.parse(Buffer.from(payload.data ?? new Uint8Array()).toString('utf8')) as CaBundle;
}
