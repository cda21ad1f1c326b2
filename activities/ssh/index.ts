/**
 * kubeha's SSH transport: what host activities import.
 */
export type { CommandResult, RemoteCommand, RemoteShell, RunOptions } from './types';
export { createSshShell, type SshShellDeps } from './shell';
export { commandLabel } from './channels';
export { activityRunOptions, type ActivityRunSettings, type CommandHeartbeat } from './activityRunOptions';
export { FileKnownHostsStore, defaultKnownHostsPath, knownHostsEndpoint, type KnownHost, type KnownHostsStore } from './knownHosts';
export { sshFingerprint } from './fingerprint';
export { shellQuote } from './quote';
export type { ShellLogger } from './connections';
