/**
 * `linkerd check -o json` parsing (the shape of linkerd2's pkg/healthcheck JSON output, core checks and an
 * extension's printed back to back) and the √ / ‼ / × rendering of kubeha's reports.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCheckJson, renderReport, reportOf } from '../../activities/mesh/checkResults';
import { parseLinkerdVersion, prefersHttpRoute, supportsLinkGen } from '../../common/inputs/linkMeshClusters';

const core = {
  success: true,
  categories: [
    {
      categoryName: 'linkerd-identity',
      checks: [
        { description: 'trust anchors are within their validity period', result: 'success' },
        {
          description: 'issuer cert is valid for at least 60 days',
          result: 'warning',
          error: 'issuer certificate will expire on 2026-12-01T00:00:00Z',
          hint: 'https://linkerd.io/2/checks/#l5d-identity-issuer-cert-not-expiring-soon',
        },
      ],
    },
  ],
};
const multicluster = {
  success: false,
  categories: [
    {
      categoryName: 'linkerd-multicluster',
      checks: [
        {
          description: 'all mirror services have endpoints',
          result: 'error',
          error: 'Some mirror services do not have endpoints:\n  podinfo-east.test',
          hint: 'https://linkerd.io/2/checks/#l5d-multicluster-services-endpoints',
        },
      ],
    },
  ],
};

describe('linkerd check results', () => {
  test('parses concatenated JSON outputs into check lines with status, error and hint', () => {
    const checks = parseCheckJson(`${JSON.stringify(core, null, 2)}\n${JSON.stringify(multicluster, null, 2)}\n`);
    assert.deepEqual(
      checks.map((c) => [c.category, c.status]),
      [
        ['linkerd-identity', 'ok'],
        ['linkerd-identity', 'warning'],
        ['linkerd-multicluster', 'error'],
      ],
    );
    assert.equal(checks[1].hint, 'https://linkerd.io/2/checks/#l5d-identity-issuer-cert-not-expiring-soon');
    assert.match(checks[2].error ?? '', /podinfo-east\.test/);
    assert.equal(reportOf('west', checks.slice(0, 2)).healthy, true, 'warnings keep a report healthy');
    assert.equal(reportOf('west', checks).healthy, false);
  });

  test('output without check JSON (the CLI failed first) is an error, not an empty healthy report', () => {
    assert.throws(() => parseCheckJson('Error: could not connect to the cluster {not json}'), /no check results/);
  });

  test('renders as linkerd check does', () => {
    const text = renderReport(reportOf('west', parseCheckJson(JSON.stringify(core) + JSON.stringify(multicluster))));
    assert.match(
      text,
      /^west: linkerd-identity\n-+\n√ trust anchors are within their validity period\n‼ issuer cert is valid for at least 60 days\n    issuer certificate will expire/m,
    );
    assert.match(text, /× all mirror services have endpoints\n    Some mirror services/);
    assert.match(text, /see https:\/\/linkerd\.io\/2\/checks\/#l5d-multicluster-services-endpoints for hints/);
    assert.match(text, /Status check results are ×$/);
  });

  test('versions decide link-gen and the split kind', () => {
    assert.equal(supportsLinkGen(parseLinkerdVersion('edge-25.11.3')), true);
    assert.equal(supportsLinkGen(parseLinkerdVersion('edge-25.2.1')), false);
    assert.equal(supportsLinkGen(parseLinkerdVersion('stable-2.14.10')), false);
    assert.equal(prefersHttpRoute(parseLinkerdVersion('stable-2.12.6')), false);
    assert.equal(prefersHttpRoute(parseLinkerdVersion('stable-2.14.10')), true);
    assert.equal(prefersHttpRoute(parseLinkerdVersion('Client version: edge-24.1.1')), true);
  });
});
