/**
 * The data converter kubeha's worker, CLI and servers share: the default payload converter, then the
 * {@link EncryptionCodec}; failures' messages and stack traces are moved into an encoded attribute so
 * they are encrypted too.
 */
import type { DataConverter } from '@temporalio/common';
import { EncryptionCodec } from './encryptionCodec';
import { describeKeySource, type Keyring, loadKeyring, type KeySource } from './keyring';

/**
 * The module of kubeha's failure converter. A worker given a PREBUILT workflow bundle needs it in
 * `bundleWorkflowCode({ failureConverterPath })` as well (the worker bundles it itself otherwise).
 */
export const FAILURE_CONVERTER_PATH = require.resolve('./failureConverter');

/** A data converter and a line saying which keys it uses. */
export interface KubehaDataConverter {
  dataConverter: DataConverter;
  codec: EncryptionCodec;
  keyring: Keyring;
  source?: KeySource;
  /** For logs: cipher, encrypting key id, where the keys came from. */
  description: string;
}

/** The data converter for a given keyring (tests, benchmarks). */
export function dataConverterFor(keyring: Keyring, source?: KeySource): KubehaDataConverter {
  const codec = new EncryptionCodec(keyring);
  return {
    dataConverter: {
      payloadCodecs: [codec],
      // Failure messages are for people and may quote what a command printed: encrypt them as well.
      failureConverterPath: FAILURE_CONVERTER_PATH,
    },
    codec,
    keyring,
    source,
    description: source ? describeKeySource(source, keyring) : `payload encryption: AES-256-GCM, key "${keyring.encryptKey.id}"`,
  };
}

/**
 * kubeha's data converter, keys from the environment (see {@link loadKeyring}). Pass
 * `.dataConverter` to `Worker.create`, `new Client(...)` and `Connection`-based clients alike: a
 * process that writes payloads with one keyring and reads with another sees only ciphertext.
 */
export function kubehaDataConverter(env: NodeJS.ProcessEnv = process.env): KubehaDataConverter {
  const { keyring, source } = loadKeyring(env);
  return dataConverterFor(keyring, source);
}
