/** Lab hosts: directory trees with a real sshd in their own mount namespace (see lab/README.md). */
export {
  startLabHost,
  stopLabHost,
  labHostSpec,
  readLabHostRecord,
  isRunning,
  type LabHost,
  type LabHostOptions,
  type LabHostRecord,
  type StopReport,
} from './labHost';
export { dropSsh, restoreSsh, delaySsh, isolate, rejoin } from './faults';
export { readCommandLog, parseCommandLog, type LoggedCommand } from './commandLog';
export { labHostPaths, HOST_BIND_PATHS, type LabHostPaths } from './layout';
export { processesInNamespace } from './namespace';
export { runOnLabHost } from './remote';
export { labNetworkLabel, listRules as listLabRules, removeRules as removeLabRules, type LabRule } from './hostFirewall';
export { cgroupProcesses, removeLabCgroups, type HostCgroup } from './hostCgroup';
