/** Every kubeha workflow, for the worker's bundle. One file per workflow, named after it. */
export { BootstrapStackedEtcd } from './bootstrap';
export { ClusterLock } from './ClusterLock';
export { FailoverToEast } from './failover';
export { LinkMeshClusters } from './mesh';
export { RotateCertificateKey } from './rotate';
