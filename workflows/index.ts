/** Every kubeha workflow, for the worker's bundle. One folder per workflow; its index.ts is the workflow. */
export { BackupEtcd } from './backup';
export { BootstrapStackedEtcd } from './bootstrap';
export { ClusterLock } from './lock';
export { FailoverToEast } from './failover';
export { LinkMeshClusters } from './mesh';
export { RotateCertificateKey } from './rotate';
export { RecoverControlPlane } from './recover';
