/**
 * Moving a snapshot file from a host to S3 without holding it whole on the worker: the file is read in
 * 512 KiB slices (`dd | base64`, the remote shell's results are text and keep at most 1 MiB), gathered
 * into 8 MiB parts of a multipart upload, hashed as it goes. A file of one part is a single PutObject.
 * The snapshot object is written last of a backup, with the metadata that marks the backup complete.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import type { BackupStore } from '../../common/inputs/backupEtcd';
import { ErrorType } from '../../common/errors';
import type { HostSpec } from '../../common/inputs/shared';
import { hostFailure, type HostRunner, shellWord } from '../hosts/context';
import { encryptionParams, s3Failure } from './store';

/** Bytes read per remote command (base64 of it stays under the shell's 1 MiB result limit). */
export const SLICE_BYTES = 512 * 1024;
/** Bytes per multipart part (S3's minimum is 5 MiB, except for the last). */
export const PART_BYTES = 8 * 1024 * 1024;

/** What to upload: a file of known size on a host, to one key. */
export interface StreamRequest {
  host: HostSpec;
  path: string;
  size: number;
  key: string;
  metadata: Record<string, string>;
}

/** Reads slice `index` of the file; checks its length so a file changed underneath is caught. */
async function readSlice(run: HostRunner, req: StreamRequest, index: number): Promise<Buffer> {
  const result = await run.check(
    req.host,
    {
      command: `dd if=${shellWord(req.path)} bs=${SLICE_BYTES} skip=${index} count=1 status=none | base64 -w0`,
      label: 'read snapshot slice',
      // The bytes stay out of heartbeats and logs (a snapshot holds every Secret of the cluster).
      secretOutput: true,
    },
    'the snapshot file on the host could not be read; the activity retries with a new snapshot',
    ErrorType.CommandTransient,
  );
  const bytes = Buffer.from(result.stdout.trim(), 'base64');
  const expected = Math.min(SLICE_BYTES, req.size - index * SLICE_BYTES);
  if (bytes.length !== expected) {
    throw hostFailure({
      type: ErrorType.CommandTransient,
      host: req.host,
      message: `snapshot slice ${index} has ${bytes.length} bytes, expected ${expected}`,
      retryable: true,
      hint: 'the file changed or the read was cut short; the activity retries',
    });
  }
  return bytes;
}

/** Reads the next part (up to PART_BYTES) starting at `offset`. */
async function readPart(run: HostRunner, req: StreamRequest, offset: number, hash: ReturnType<typeof createHash>): Promise<Buffer> {
  const slices: Buffer[] = [];
  const end = Math.min(req.size, offset + PART_BYTES);
  for (let at = offset; at < end; at += SLICE_BYTES) {
    const slice = await readSlice(run, req, at / SLICE_BYTES);
    hash.update(slice);
    slices.push(slice);
  }
  return Buffer.concat(slices);
}

/** The worker's hash of what it read, which must be the one sha256sum printed on the host (in the metadata). */
function checkedHash(req: StreamRequest, sha256: string): string {
  if (sha256 === req.metadata.sha256) return sha256;
  throw hostFailure({
    type: ErrorType.VerificationFailed,
    host: req.host,
    message: `the snapshot read from the host hashes to ${sha256}, sha256sum on the host said ${req.metadata.sha256}`,
    retryable: true,
    hint: 'the file changed while it was read; the activity retries with a new snapshot',
  });
}

/**
 * Aborts the multipart uploads still open for `key`; returns how many. An earlier attempt whose worker
 * died mid-upload never ran its abort, and S3 keeps (and bills) an open upload's parts until something
 * aborts it. Those parts cannot be resumed: they hold a snapshot the retry takes anew. Only the
 * backup's own key is touched, and the cluster lock keeps every other backup of the cluster away.
 */
export async function abortOpenUploads(s3: S3Client, store: BackupStore, key: string): Promise<number> {
  let aborted = 0;
  let markers: { KeyMarker?: string; UploadIdMarker?: string } = {};
  for (;;) {
    const page = await s3
      .send(new ListMultipartUploadsCommand({ Bucket: store.bucket, Prefix: key, ...markers }))
      .catch((err: unknown) => Promise.reject(s3Failure(err, `ListMultipartUploads ${key}`)));
    for (const upload of page.Uploads ?? []) {
      if (upload.Key !== key || !upload.UploadId) continue;
      await s3
        .send(new AbortMultipartUploadCommand({ Bucket: store.bucket, Key: key, UploadId: upload.UploadId }))
        .catch((err: unknown) => Promise.reject(s3Failure(err, `AbortMultipartUpload ${key}`)));
      aborted += 1;
    }
    if (!page.IsTruncated) return aborted;
    markers = { KeyMarker: page.NextKeyMarker, UploadIdMarker: page.NextUploadIdMarker };
  }
}

/** Streams the file to S3 with `req.metadata` (whose sha256 is the host's); returns the SHA-256 of the bytes uploaded (hex). */
export async function streamToS3(run: HostRunner, s3: S3Client, store: BackupStore, req: StreamRequest): Promise<string> {
  await abortOpenUploads(s3, store, req.key);
  const hash = createHash('sha256');
  const common = { Bucket: store.bucket, Key: req.key, ...encryptionParams(store) };
  if (req.size <= PART_BYTES) {
    const body = await readPart(run, req, 0, hash);
    const sha256 = checkedHash(req, hash.digest('hex'));
    await s3
      .send(new PutObjectCommand({ ...common, Body: body, ContentLength: body.length, Metadata: req.metadata }))
      .catch((err: unknown) => Promise.reject(s3Failure(err, `PutObject ${req.key}`)));
    return sha256;
  }
  // Multipart metadata is fixed at creation, before the worker's hash is known: the upload is only
  // completed (made visible) once that hash matches the host's.
  const created = await s3
    .send(new CreateMultipartUploadCommand({ ...common, Metadata: req.metadata }))
    .catch((err: unknown) => Promise.reject(s3Failure(err, `CreateMultipartUpload ${req.key}`)));
  const uploadId = created.UploadId as string;
  try {
    const parts: { ETag?: string; PartNumber: number }[] = [];
    for (let offset = 0, n = 1; offset < req.size; offset += PART_BYTES, n++) {
      const body = await readPart(run, req, offset, hash);
      const out = await s3
        .send(new UploadPartCommand({ Bucket: store.bucket, Key: req.key, UploadId: uploadId, PartNumber: n, Body: body, ContentLength: body.length }))
        .catch((err: unknown) => Promise.reject(s3Failure(err, `UploadPart ${n} of ${req.key}`)));
      parts.push({ ETag: out.ETag, PartNumber: n });
    }
    const sha256 = checkedHash(req, hash.digest('hex'));
    await s3
      .send(new CompleteMultipartUploadCommand({ Bucket: store.bucket, Key: req.key, UploadId: uploadId, MultipartUpload: { Parts: parts } }))
      .catch((err: unknown) => Promise.reject(s3Failure(err, `CompleteMultipartUpload ${req.key}`)));
    return sha256;
  } catch (err) {
    await s3.send(new AbortMultipartUploadCommand({ Bucket: store.bucket, Key: req.key, UploadId: uploadId })).catch(() => undefined);
    throw err;
  }
}
