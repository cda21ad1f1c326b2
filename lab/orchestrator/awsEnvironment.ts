/**
 * What kubeha's worker needs in its environment to use the lab's AWS: the SDK's default credential
 * chain must find credentials (moto accepts any), and a default region. The lab endpoint itself is
 * in each input (`aws.endpoint`). And its mesh driver must run the lab linkerd.
 */
import path from 'node:path';
import { projectRoot } from '../../lib/paths';

/** The dummy credentials the lab hands the AWS SDK. Not secrets: moto checks nothing. */
export const LAB_AWS_ENVIRONMENT: Readonly<Record<string, string>> = {
  AWS_ACCESS_KEY_ID: 'kubeha-lab',
  AWS_SECRET_ACCESS_KEY: 'kubeha-lab',
  AWS_REGION: 'us-east-1',
};

/** Sets the lab's AWS variables in `env` where they are unset; returns the names it set. */
export function applyLabAwsEnvironment(env: NodeJS.ProcessEnv = process.env): string[] {
  const set: string[] = [];
  for (const [name, value] of Object.entries(LAB_AWS_ENVIRONMENT)) {
    if (env[name]) continue;
    env[name] = value;
    set.push(name);
  }
  return set;
}

/** `export` lines for a shell. */
export function labAwsExports(): string[] {
  return Object.entries(LAB_AWS_ENVIRONMENT).map(([name, value]) => `export ${name}=${value}`);
}

/** The lab linkerd (lab/README.md, "Lab linkerd"): the real CLI's manifests would need containers the lab cannot run. */
export const LAB_LINKERD_PATH = path.join(projectRoot, 'lab', 'tools', 'bin', 'linkerd');

/** Sets LINKERD_PATH to the lab linkerd unless it is set; returns the names it set. */
export function applyLabLinkerdEnvironment(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.LINKERD_PATH) return [];
  env.LINKERD_PATH = LAB_LINKERD_PATH;
  return ['LINKERD_PATH'];
}
