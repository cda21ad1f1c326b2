/** Every kubeha workflow, for the worker's bundle. One file per workflow, named after it. */
export { BootstrapStackedEtcd } from './BootstrapStackedEtcd';
