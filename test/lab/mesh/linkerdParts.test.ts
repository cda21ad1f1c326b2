/**
 * The lab linkerd's parts without a cluster: cobra-like flag parsing, Helm's `--set`, the check
 * runner's fatal/warning/skip rules and its JSON, and the certificate texts of Go's crypto/x509 and
 * linkerd2's issuercerts, on certificates kubeha's own PKI makes.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, test } from 'node:test';
import { createIssuer, createTrustAnchor } from '../../../activities/mesh/pki';
import { parseCheckJson } from '../../../activities/mesh/checkResults';
import { all, flag, isOn, parseDuration, parseFlags, UsageError } from '../../../lab/mesh/cli/args';
import { chainError, expiringSoonError, keyError, validityError } from '../../../lab/mesh/cli/certs';
import { renderJson, runChecks, type Category } from '../../../lab/mesh/cli/checks';
import { applySet } from '../../../lab/mesh/cli/manifest';

describe('lab linkerd: arguments', () => {
  test('values, repeated --set, switches, global flags anywhere, unknown flags refused', () => {
    const args = parseFlags(['--context', 'east', 'multicluster', 'install', '--set', 'a=1', '--set=b.c=2', '-L', 'l5d', '--gateway=false'], {
      values: ['set'],
      switches: ['gateway'],
    });
    assert.deepEqual(args.words, ['multicluster', 'install']);
    assert.deepEqual(all(args, 'set'), ['a=1', 'b.c=2']);
    assert.equal(flag(args, 'context'), 'east');
    assert.equal(flag(args, 'linkerd-namespace'), 'l5d');
    assert.equal(isOn(args, 'gateway'), false);
    assert.throws(
      () => parseFlags(['check', '--bogus'], { values: [], switches: [] }),
      (e) => e instanceof UsageError && e.message === 'unknown flag: --bogus',
    );
    assert.throws(() => parseFlags(['check', '-o'], { values: ['output'], switches: [], short: { o: 'output' } }), /flag needs an argument: --output/);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.throws(() => parseDuration('soon'), /invalid duration/);
  });

  test("--set builds Helm's tree: dotted paths, list indexes, typed scalars", () => {
    const values: Record<string, unknown> = {};
    applySet(values, 'controllers[0].link.ref.name=east');
    applySet(values, 'gateway.enabled=false');
    applySet(values, 'gateway.port=4000');
    assert.deepEqual(values, { controllers: [{ link: { ref: { name: 'east' } } }], gateway: { enabled: false, port: 4000 } });
    assert.throws(() => applySet(values, 'novalue'), UsageError);
  });
});

describe('lab linkerd: check runner', () => {
  const category = (name: string, ...checkers: Category['checkers']): Category => ({ name, checkers });
  const pass = (description: string) => ({ description, hintAnchor: 'a', check: async () => undefined });
  const fail = (description: string, extra: object = {}) => ({
    description,
    hintAnchor: 'x-y',
    ...extra,
    check: async () => {
      throw new Error(`${description} failed`);
    },
  });

  test('a warning keeps success, a skipped check is not printed, verbose lines join the description', async () => {
    const run = await runChecks(
      [
        category(
          'one',
          pass('a'),
          fail('b', { warning: true }),
          { description: 'c', hintAnchor: 'c', check: async () => ({ skip: 'nothing' }) },
          { description: 'd', hintAnchor: 'd', check: async () => ({ verbose: '\t* east' }) },
        ),
      ],
      0,
    );
    assert.equal(run.success, true);
    assert.equal(run.warning, true);
    assert.deepEqual(
      run.results.map((r) => [r.description, r.result]),
      [
        ['a', 'success'],
        ['b', 'warning'],
        ['d\n\t* east', 'success'],
      ],
    );
  });

  test('a fatal error ends the run; the JSON is linkerd2 healthcheck.CheckOutput and kubeha parses it', async () => {
    const run = await runChecks([category('first', fail('broken', { fatal: true }), pass('never')), category('second', pass('never either'))], 0);
    assert.equal(run.success, false);
    assert.deepEqual(
      run.results.map((r) => r.description),
      ['broken'],
    );
    const text = renderJson(run);
    assert.equal(
      text,
      `${JSON.stringify(
        {
          success: false,
          categories: [
            { categoryName: 'first', checks: [{ description: 'broken', hint: 'https://linkerd.io/2/checks/#x-y', error: 'broken failed', result: 'error' }] },
          ],
        },
        null,
        2,
      )}\n`,
    );
    assert.deepEqual(parseCheckJson(text), [
      { category: 'first', description: 'broken', status: 'error', error: 'broken failed', hint: 'https://linkerd.io/2/checks/#x-y' },
    ]);
  });

  test('a retried check is retried until the wait runs out', async () => {
    let calls = 0;
    const flaky = {
      description: 'flaky',
      hintAnchor: 'f',
      retry: true,
      check: async () => {
        calls++;
        if (calls < 2) throw new Error('not yet');
      },
    };
    assert.equal((await runChecks([category('c', flaky)], 5000)).success, true);
    assert.equal(calls, 2);
  });
});

describe('lab linkerd: certificate rules, on kubeha-made certificates', () => {
  test("chain, expiry, validity and key texts are Go's and issuercerts'", async () => {
    const anchor = await createTrustAnchor(87_600);
    const issuer = await createIssuer(anchor, 30 * 24);
    const other = await createTrustAnchor(87_600);
    const [a, i, o] = [anchor, issuer, other].map((k) => new X509Certificate(k.certificatePem));
    const now = new Date();
    assert.equal(chainError(i, [a], now), undefined);
    assert.equal(chainError(i, [o, a], now), undefined, 'any anchor of the bundle will do');
    assert.match(
      chainError(i, [o], now) ?? '',
      /^x509: certificate signed by unknown authority \(possibly because of "x509: ECDSA verification failure" while trying to verify candidate authority certificate "root\.linkerd\.cluster\.local"\)$/,
    );
    assert.match(expiringSoonError(i, now) ?? '', /^will expire on \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(expiringSoonError(a, now), undefined);
    assert.match(validityError(i, new Date(Date.now() + 40 * 86_400_000)) ?? '', /^not valid anymore\. Expired on /);
    assert.equal(keyError(i, issuer.keyPem), undefined);
    assert.equal(keyError(i, anchor.keyPem), 'tls: Public and private key do not match');
  });
});
