/**
 * The secret scan finds a planted secret in every shape it looks for, and nothing in text that only
 * resembles it: the scans of histories, logs and command lines rest on this.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { findSecrets } from './secretScan';

describe('secret scan', () => {
  test('the scan finds a secret in every shape it looks for: raw, inside base64 at any offset, PEM lines escaped into JSON, a kubeconfig field', () => {
    const key = randomBytes(32).toString('hex');
    const pem = `-----BEGIN PRIVATE KEY-----\n${randomBytes(96)
      .toString('base64')
      .replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----\n`;
    const planted: Record<string, string> = {
      raw: `upload-certs printed ${key} here`,
      'base64, offset 0': Buffer.from(key).toString('base64'),
      'base64, offset 1': Buffer.from(`x${key}y`).toString('base64'),
      'base64, offset 2': Buffer.from(`xy${key}`).toString('base64'),
      'JSON-escaped PEM': JSON.stringify({ message: `failed: ${pem}` }),
      'kubeconfig field decoded': pem.split('\n')[2],
    };
    for (const [shape, text] of Object.entries(planted)) {
      const secret = shape.startsWith('kubeconfig') || shape.startsWith('JSON') ? Buffer.from(pem).toString('base64') : key;
      assert.equal(findSecrets([{ source: shape, texts: ['nothing', text] }], [{ label: 'planted', value: secret }]).length, 1, `found ${shape}`);
    }
    assert.deepEqual(
      findSecrets([{ source: 'clean', texts: [key.slice(0, 10), Buffer.from(key.slice(8)).toString('hex')] }], [{ label: 'planted', value: key }]),
      [],
    );
  });
});
