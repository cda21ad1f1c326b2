/**
 * `uploadCertificateKey`: the control-plane certificates uploaded again under a new certificate key,
 * with the host activities' building blocks (credentials.ts): the key from `kubeadm certs
 * certificate-key`, the upload with the key in a 0600 kubeadm config file (never on a command line),
 * Secret kube-system/kubeadm-certs verified to open with it. Then the previous key is verified
 * rejected, and key, upload time and expiry are stored for other workflows.
 */
import { ErrorType } from '../../common/errors';
import { uploadedCertsState } from '../hosts/cluster';
import { hostFailure, type HostRunner, secretNames } from '../hosts/context';
import { uploadCertificates } from '../hosts/credentials';
import type { SecretName } from '../types';
import type { CertificateKeyInfo, UploadCertificateKeyInput } from './types';

/** The record other workflows read: the key with its times. */
export interface CertificateKeyRecord {
  certificateKey: string;
  uploadedAt: string;
  expiresAt: string;
  host: string;
}

/** Where the rotation keeps the key (the same name `kubeadmJoin` reads) and its record. */
export function rotationSecretNames(clusterName: string): { certificateKey: SecretName; record: SecretName } {
  return { certificateKey: secretNames(clusterName).certificateKey, record: `clusters/${clusterName}/certificate-key-record` };
}

async function readRecord(run: HostRunner, name: SecretName): Promise<CertificateKeyRecord | undefined> {
  if (!(await run.secrets.has(name))) return undefined;
  try {
    const record = JSON.parse(await run.secrets.get(name)) as CertificateKeyRecord;
    return typeof record.certificateKey === 'string' && !Number.isNaN(Date.parse(record.uploadedAt)) ? record : undefined;
  } catch {
    return undefined;
  }
}

/** Uploads under a new key unless a key uploaded moments ago still opens the certificates. */
export async function uploadCertificateKey(run: HostRunner, input: UploadCertificateKeyInput): Promise<CertificateKeyInfo> {
  const { host, clusterName } = input;
  const names = rotationSecretNames(clusterName);
  const previousKey = (await run.secrets.has(names.certificateKey)) ? (await run.secrets.get(names.certificateKey)).trim() : undefined;
  const record = await readRecord(run, names.record);

  // Check the world first: a retried activity or a second run right after the first keeps the fresh key.
  if (previousKey && record?.certificateKey === previousKey && input.keepKeyUploadedWithinMinutes > 0) {
    const age = run.now().getTime() - Date.parse(record.uploadedAt);
    if (age >= 0 && age < input.keepKeyUploadedWithinMinutes * 60_000) {
      const state = await uploadedCertsState(run, host, previousKey);
      if (state.present && state.opens) {
        return {
          host: record.host,
          rotated: false,
          certificateKeySecret: names.certificateKey,
          recordSecret: names.record,
          uploadedAt: record.uploadedAt,
          expiresAt: state.expiresAt?.toISOString() ?? record.expiresAt,
        };
      }
    }
  }

  const uploadedAt = run.now();
  const fresh = await uploadCertificates(run, host);
  const kept: CertificateKeyRecord = {
    certificateKey: fresh.value,
    uploadedAt: uploadedAt.toISOString(),
    expiresAt: fresh.expiresAt.toISOString(),
    host: host.name,
  };
  // Stored at once: from now on only this key opens the certificates, and joins read it from here.
  await run.secrets.put(names.certificateKey, fresh.value);
  await run.secrets.put(names.record, JSON.stringify(kept));

  let previousKeyRejected: boolean | undefined;
  if (previousKey && previousKey !== fresh.value) {
    const old = await uploadedCertsState(run, host, previousKey);
    if (old.opens) {
      throw hostFailure({
        type: ErrorType.VerificationFailed,
        host,
        message: 'the previous certificate key still opens Secret kube-system/kubeadm-certs after the upload',
        retryable: true,
        hint: 'the upload did not replace the Secret; check `kubectl -n kube-system get secret kubeadm-certs` and retry',
        secrets: [previousKey, fresh.value],
      });
    }
    previousKeyRejected = true;
  }
  return {
    host: host.name,
    rotated: true,
    certificateKeySecret: names.certificateKey,
    recordSecret: names.record,
    uploadedAt: kept.uploadedAt,
    expiresAt: kept.expiresAt,
    previousKeyRejected,
  };
}
