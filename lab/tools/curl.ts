/**
 * Lab `curl`. Lab hosts have no internet, as many real hosts do not. Two kinds of request work:
 * - the pkgs.k8s.io signing key (`https://pkgs.k8s.io/core:/stable:/vX.Y/deb/Release.key`), which
 *   kubeha's preparation script downloads on the host: answered with a placeholder key (an armored
 *   OpenPGP block that `gpg --dearmor` accepts), because apt in the lab checks only that the
 *   keyring is there;
 * - requests to the machine itself (loopback addresses, localhost): handed to the real curl, so
 *   health checks against a lab API server behave as they would.
 * Anything else fails like curl without a route out: "Could not resolve host", exit 6.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const REAL_CURL = '/usr/bin/curl';

/** A placeholder public key block; its payload says what it is. */
function placeholderKey(url: string): string {
  const payload = Buffer.from(`kubeha lab placeholder for the signing key at ${url}\n`);
  const body = payload
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trim();
  return `-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n${body}\n=${crc24(payload)}\n-----END PGP PUBLIC KEY BLOCK-----\n`;
}

/** The armor checksum (RFC 4880 section 6.1). */
function crc24(data: Buffer): string {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  const value = crc & 0xffffff;
  return Buffer.from([value >> 16, (value >> 8) & 0xff, value & 0xff]).toString('base64');
}

const OPTIONS_WITH_VALUE = new Set([
  '-o',
  '--output',
  '-H',
  '--header',
  '-X',
  '--request',
  '-d',
  '--data',
  '--cacert',
  '--cert',
  '--key',
  '-m',
  '--max-time',
  '--connect-timeout',
  '-w',
  '--write-out',
  '-u',
  '--user',
  '-A',
  '--user-agent',
  '--retry',
  '-e',
  '--referer',
]);

function main(argv: string[]): number {
  let output: string | undefined;
  let silent = false;
  let showError = false;
  const urls: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-o' || arg === '--output') output = argv[++i];
    else if (OPTIONS_WITH_VALUE.has(arg)) i++;
    else if (arg.startsWith('--')) continue;
    else if (arg.startsWith('-')) {
      if (arg.includes('s')) silent = true;
      if (arg.includes('S')) showError = true;
      if (arg.endsWith('o')) output = argv[++i];
    } else urls.push(arg);
  }
  const url = urls[0];
  if (!url) {
    process.stderr.write('curl: no URL specified!\n');
    return 2;
  }
  const host = /^(?:[a-z]+:\/\/)?(?:[^@/]*@)?(\[[^\]]+\]|[^:/]+)/i.exec(url)?.[1] ?? '';
  if (/^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(host)) {
    return spawnSync(REAL_CURL, argv, { stdio: 'inherit' }).status ?? 1;
  }
  if (/^https:\/\/pkgs\.k8s\.io\/core:\/stable:\/v\d+\.\d+\/deb\/Release\.key$/.test(url)) {
    const key = placeholderKey(url);
    if (output && output !== '-') writeFileSync(output, key);
    else process.stdout.write(key);
    return 0;
  }
  if (!silent || showError) process.stderr.write(`curl: (6) Could not resolve host: ${host}\n`);
  return 6;
}

process.exitCode = main(process.argv.slice(2));
