/**
 * The local lab as services of `kubeha start` (what `npm start` runs): the lab comes up first (its
 * AWS, hosts and the inputs that point at them), and once the worker polls, BootstrapStackedEtcd runs on
 * the lab's west cluster with its steps shown live. Ctrl-C takes the lab down with everything else.
 */
import { applyLabAwsEnvironment, applyLabLinkerdEnvironment, labDown, labUp } from '../lab/orchestrator';
import { bootstrapCommand } from './commands/bootstrap';
import type { LocalService } from './localStack';

const never = new Promise<never>(() => undefined);

/** Brings the lab up; its inputs are kept for {@link labBootstrapService}. */
export function labService(inputs: Record<string, string>, options: { dataDir?: string; topologyFile?: string } = {}): LocalService {
  return {
    name: 'lab',
    async start(context) {
      context.say('starting the lab (hosts over SSH, AWS on moto with the load balancer data plane, real etcd and kube-apiserver)...');
      const up = await labUp({ ...options, say: (line) => context.say(`  lab: ${line}`) });
      Object.assign(inputs, up.state.inputs);
      // The worker's AWS SDK talks to the lab's endpoint; moto takes any credentials.
      applyLabAwsEnvironment(process.env);
      applyLabLinkerdEnvironment(process.env);
      context.say(`lab up in ${(up.ms / 1000).toFixed(1)} s; inputs: ${Object.values(up.state.inputs).join(', ')}`);
      return {
        ended: never,
        stop: async () => {
          await labDown({ dataDir: options.dataDir });
        },
      };
    },
  };
}

/** Starts the bootstrap of one lab cluster and follows it in the terminal, without holding up the stack. */
export function labBootstrapService(inputs: Record<string, string>, cluster: string): LocalService {
  return {
    name: `bootstrap-${cluster}`,
    async start(context) {
      const file = inputs[cluster];
      if (!file) {
        context.say(`the lab has no cluster "${cluster}": nothing to bootstrap`);
        return { ended: never, stop: async () => undefined };
      }
      // The CLI's client reads its settings from the environment: point it at the stack's dev server and UI.
      process.env.TEMPORAL_ADDRESS = context.settings.address;
      process.env.KUBEHA_UI_URL = context.settings.uiUrl;
      context.say(`bootstrapping the lab's ${cluster} cluster from ${file}`);
      bootstrapCommand({ file, follow: true })
        .then(() =>
          context.say(
            `the ${cluster} cluster is up; kubeha keeps running: start more workflows from the Web UI (${context.settings.uiUrl}); Ctrl-C stops everything and takes the lab down`,
          ),
        )
        .catch((err: Error) => context.say(`bootstrap of ${cluster}: ${err.message}`));
      return { ended: never, stop: async () => undefined };
    },
  };
}
