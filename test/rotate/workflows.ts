/**
 * The workflows the rotation tests bundle: rotation, the cluster lock, and the bootstrap whose joins
 * must exclude a rotation (a private bundle, independent of workflows/index.ts).
 */
export { BootstrapStackedEtcd } from '../../workflows/bootstrap';
export { ClusterLock } from '../../workflows/lock';
export { RotateCertificateKey } from '../../workflows/rotate';
