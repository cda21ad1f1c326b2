/**
 * The lab's kubeadm: the subcommands kubeha runs on hosts, with kubeadm's flags, output and exit
 * codes (0 on success; 1 with `error: ...` on stderr on failure). Run through lab/tools/bin/kubeadm.
 */
import { randomBytes } from 'node:crypto';
import { type FlagSpec, flag, flagList, flagSet, parseArgs, type ParsedArgs, rejectMixedWithConfig, UsageError } from './args';
import { certificateKey, checkExpiration, renew } from './certs';
import { clusterConfig, initConfigFromDocs, joinConfigFromDocs } from './config';
import { readConfigDocuments } from './configFile';
import { hostAddress, hostEnv, KUBERNETES_VERSION } from './env';
import { formatError, KubeadmError, phase } from './errors';
import { initPreflight, runInit } from './init';
import { INIT_FLAGS, initConfiguration } from './initConfiguration';
import { ignoredChecks } from './preflight';
import { runJoin } from './join';
import { JOIN_FLAGS } from './joinConfiguration';
import type { Out } from './phases';
import { runReset } from './reset';
import { adminClient, tokenCreate, tokenDelete, tokenGenerate, tokenList } from './token';
import { uploadCerts } from './uploadCerts';

const out: Out = (line) => process.stdout.write(`${line}\n`);
const warn: Out = (line) => process.stderr.write(`${line}\n`);

/** `kubeadm init phase upload-certs --upload-certs [--config F | --certificate-key K]`. */
async function uploadCertsPhase(args: ParsedArgs): Promise<void> {
  if (!flagSet(args, 'upload-certs')) {
    out('[upload-certs] Skipping phase. Please see --upload-certs');
    return;
  }
  rejectMixedWithConfig(args, ['upload-certs', 'skip-certificate-key-print', 'kubeconfig']);
  const host = hostEnv();
  let key = flag(args, 'certificate-key');
  let certificatesDir = flag(args, 'cert-dir');
  const file = flag(args, 'config');
  if (file) {
    const docs = readConfigDocuments(file);
    key = (docs.get('InitConfiguration')?.certificateKey as string | undefined) || undefined;
    certificatesDir = clusterConfig(docs.get('ClusterConfiguration')).certificatesDir;
  }
  key ??= randomBytes(32).toString('hex');
  if (!/^[0-9a-fA-F]{64}$/.test(key)) throw new KubeadmError('error decoding certificate key: the certificate key must be 64 hex characters (32 bytes)');
  const client = adminClient(args);
  await phase('upload-certs', () =>
    uploadCerts(client, certificatesDir ?? clusterConfig(undefined).certificatesDir, key!, host.settings.uploadedCertsTtlSeconds * 1000, out),
  );
  out('[upload-certs] Using certificate key:');
  out(flagSet(args, 'skip-certificate-key-print') ? '<value withheld>' : key);
}

function version(args: ParsedArgs): void {
  const output = flag(args, 'output') ?? '';
  const info = {
    major: '1',
    minor: KUBERNETES_VERSION.split('.')[1],
    gitVersion: KUBERNETES_VERSION,
    gitCommit: 'lab',
    gitTreeState: 'clean',
    buildDate: '2025-01-01T00:00:00Z',
    goVersion: 'go1.25',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
  if (output === 'short') return out(KUBERNETES_VERSION);
  if (output === 'json') return out(JSON.stringify({ clientVersion: info }, null, 2));
  if (output === 'yaml')
    return out(
      `clientVersion:\n${Object.entries(info)
        .map(([k, v]) => `  ${k}: ${v}`)
        .join('\n')}`,
    );
  if (output !== '') throw new UsageError(`invalid output format: ${output}`);
  out(
    `kubeadm version: &version.Info{Major:"1", Minor:"${info.minor}", GitVersion:"${KUBERNETES_VERSION}", GitCommit:"lab", GitTreeState:"clean", BuildDate:"${info.buildDate}", GoVersion:"go1.25", Compiler:"gc", Platform:"linux/amd64"}`,
  );
}

/** `kubeadm init phase preflight`: init's pre-flight checks alone. */
async function preflightPhase(args: ParsedArgs): Promise<void> {
  const host = hostEnv();
  const cfg = initConfiguration(args, host);
  const address = cfg.advertiseAddress ?? hostAddress(host);
  if (!address) throw new UsageError('unable to select an IP from default routes.');
  const ignore = ignoredChecks(flagList(args, 'ignore-preflight-errors'), cfg.ignorePreflightErrors);
  await phase('preflight', () => initPreflight(cfg, address, ignore, out, warn));
}

/** `kubeadm config validate --config F`: decodes the file strictly and builds what it configures; prints "ok". */
function configValidate(args: ParsedArgs): void {
  const file = flag(args, 'config');
  if (!file) throw new KubeadmError('the --config flag is mandatory');
  const docs = readConfigDocuments(file);
  if (docs.has('InitConfiguration') || docs.has('ClusterConfiguration')) initConfigFromDocs(docs, 'validate');
  if (docs.has('JoinConfiguration')) joinConfigFromDocs(docs, 'validate');
  out('ok');
}

const OUTPUT: FlagSpec = { booleans: [], values: ['output'], aliases: { o: 'output' } };

/** Dispatches argv (without node and the script) to a subcommand. */
async function main(argv: string[]): Promise<void> {
  const [command, sub, ...rest] = argv;
  switch (command) {
    case 'init': {
      if (sub === 'phase') {
        const [phaseName, ...phaseArgs] = rest;
        if (phaseName === 'preflight')
          return preflightPhase(parseArgs(phaseArgs, { booleans: ['dry-run'], values: ['config', 'cri-socket', 'ignore-preflight-errors'] }));
        if (phaseName !== 'upload-certs') throw new UsageError(`the lab kubeadm runs only "init phase upload-certs|preflight", not "${phaseName ?? ''}"`);
        return uploadCertsPhase(
          parseArgs(phaseArgs, {
            booleans: ['upload-certs', 'skip-certificate-key-print'],
            values: ['config', 'certificate-key', 'cert-dir', 'kubernetes-version'],
          }),
        );
      }
      return runInit(parseArgs(argv.slice(1), INIT_FLAGS), hostEnv(), out, warn);
    }
    case 'join':
      return runJoin(parseArgs(argv.slice(1), JOIN_FLAGS), hostEnv(), out, warn);
    case 'reset':
      return runReset(
        parseArgs(argv.slice(1), {
          booleans: ['force', 'dry-run'],
          values: ['cert-dir', 'cri-socket', 'ignore-preflight-errors', 'config', 'cleanup-tmp-dir', 'skip-phases'],
          aliases: { f: 'force' },
        }),
        hostEnv(),
        out,
        warn,
      );
    case 'token': {
      const args = parseArgs(rest, {
        booleans: ['print-join-command'],
        values: ['ttl', 'description', 'usages', 'groups', 'certificate-key', 'config', 'output', 'dry-run'],
        aliases: { o: 'output' },
      });
      if (sub === 'generate') return tokenGenerate(out);
      if (sub === 'create') return tokenCreate(args, out);
      if (sub === 'list') return tokenList(args, out);
      if (sub === 'delete') return tokenDelete(args, out);
      throw new UsageError(`unknown command "${sub ?? ''}" for "kubeadm token"`);
    }
    case 'certs': {
      if (sub === 'certificate-key') return certificateKey(out);
      if (sub === 'check-expiration')
        return checkExpiration(
          parseArgs(rest, {
            booleans: ['show-managed-fields', 'allow-missing-template-keys'],
            values: ['cert-dir', 'config', 'output'],
            aliases: { o: 'output' },
          }),
          out,
        );
      if (sub === 'renew') return renew(parseArgs(rest, { booleans: [], values: ['cert-dir', 'config'] }), out);
      throw new UsageError(`unknown command "${sub ?? ''}" for "kubeadm certs"`);
    }
    case 'version':
      return version(parseArgs(argv.slice(1), OUTPUT));
    case 'config':
      if (sub === 'validate') return configValidate(parseArgs(rest, { booleans: ['allow-deprecated-api', 'allow-experimental-api'], values: ['config'] }));
      throw new UsageError(`the lab kubeadm runs only "config validate", not "config ${sub ?? ''}"`);
    default:
      throw new UsageError(`unknown command "${command ?? ''}" for "kubeadm"`);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof KubeadmError && err.preamble) process.stderr.write(`${err.preamble}\n`);
    process.stderr.write(err instanceof UsageError ? `Error: ${err.message}\n` : formatError(err));
    process.exit(1);
  },
);
