import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fetchWithTimeout, parseManifest, readManifest } from '../../activities/kubernetes/manifest';
import { freePort } from '../../lib/freePort';
import { rejectsWith } from './harness';

describe('parseManifest', () => {
  test('skips empty documents and flattens lists, keeping where each object was', () => {
    const text = [
      '# only a comment',
      '---',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a',
      '---',
      '',
      '---',
      'apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Secret\n    metadata:\n      name: b\n  - apiVersion: v1\n    kind: Service\n    metadata:\n      name: c',
    ].join('\n');
    const objects = parseManifest(text, 'test.yaml');
    assert.deepEqual(
      objects.map((o) => `${o.object.kind}/${o.object.metadata.name} @ ${o.where}`),
      // A comment before the first `---` belongs to the first document, as in YAML.
      ['ConfigMap/a @ document 1 (line 3)', 'Secret/b @ document 3 (line 10), item 1', 'Service/c @ document 3 (line 10), item 2'],
    );
  });

  test('names every bad document and what it lacks', async () => {
    const text = 'kind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: b-\n---\n- just\n- a list\n';
    await rejectsWith(
      Promise.resolve().then(() => parseManifest(text, 'bad.yaml')),
      {
        type: 'InvalidInput',
        retryable: false,
        message:
          /^bad\.yaml: document 1 \(line 1\) \(ConfigMap a\) has no apiVersion; document 2 \(line 5\) \(ConfigMap\) has no metadata\.name; document 3 \(line 10\) is a sequence, not an object$/,
      },
    );
  });

  test('reports YAML syntax errors with the document', async () => {
    const text = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n---\napiVersion: v1\nkind: [unclosed\n';
    await rejectsWith(
      Promise.resolve().then(() => parseManifest(text, 'broken.yaml')),
      {
        type: 'InvalidInput',
        retryable: false,
        message: /broken\.yaml: document 2 \(line 6\) is not valid YAML/,
      },
    );
  });
});

describe('readManifest', () => {
  let server: http.Server;
  let base: string;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'kubeha-manifest-'));
    server = http.createServer((req, res) => {
      if (req.url === '/cni.yaml') res.writeHead(200, { 'Content-Type': 'application/yaml' }).end('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: cni\n');
      else if (req.url === '/flaky.yaml') res.writeHead(503).end();
      else res.writeHead(404).end();
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  test('fetches a URL source over HTTP', async () => {
    const { text, origin } = await readManifest({ url: `${base}/cni.yaml` }, fetchWithTimeout(5000));
    assert.equal(origin, `${base}/cni.yaml`);
    assert.equal(parseManifest(text, origin)[0].object.metadata.name, 'cni');
  });

  test('a 404 is not retryable, a 503 and a refused connection are', async () => {
    const fetchManifest = fetchWithTimeout(5000);
    await rejectsWith(readManifest({ url: `${base}/missing.yaml` }, fetchManifest), { type: 'InvalidInput', retryable: false, message: /HTTP 404/ });
    await rejectsWith(readManifest({ url: `${base}/flaky.yaml` }, fetchManifest), { type: 'Unreachable', retryable: true, message: /HTTP 503/ });
    const closedPort = await freePort();
    await rejectsWith(readManifest({ url: `http://127.0.0.1:${closedPort}/x.yaml` }, fetchManifest), { type: 'Unreachable', retryable: true });
  });

  test('refuses non-http URLs and missing files', async () => {
    await rejectsWith(readManifest({ url: 'file:///etc/passwd' }, fetchWithTimeout()), { type: 'InvalidInput', retryable: false, message: /not http/ });
    await rejectsWith(readManifest({ file: path.join(dir, 'absent.yaml') }, fetchWithTimeout()), {
      type: 'InvalidInput',
      retryable: false,
      message: /cannot read manifest file .*absent\.yaml: ENOENT/,
    });
  });
});
