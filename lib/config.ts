/**
 * Connection settings shared by the worker, the CLI and the servers, from the environment.
 */

/** How kubeha reaches Temporal. */
export interface TemporalSettings {
  /** host:port of the Temporal frontend. Env TEMPORAL_ADDRESS; default 127.0.0.1:7233. */
  address: string;
  /** Env TEMPORAL_NAMESPACE; default `default`. */
  namespace: string;
  /** Env KUBEHA_TASK_QUEUE; default `kubeha`. */
  taskQueue: string;
  /** Where the Web UI is, for links. Env KUBEHA_UI_URL; default http://<host>:8233. */
  uiUrl: string;
}

/** Reads {@link TemporalSettings} from the environment. */
export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const address = env.TEMPORAL_ADDRESS || '127.0.0.1:7233';
  const host = address.replace(/:\d+$/, '');
  return {
    address,
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    taskQueue: env.KUBEHA_TASK_QUEUE || 'kubeha',
    uiUrl: env.KUBEHA_UI_URL || `http://${host}:8233`,
  };
}
