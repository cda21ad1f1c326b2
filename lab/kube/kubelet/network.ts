/**
 * The container runtime's network readiness, as containerd's CRI plugin decides it: the network is
 * ready once /etc/cni/net.d holds a loadable network configuration (a `.conf`, `.conflist` or `.json`
 * file that parses and names a network). Until then the kubelet reports the Node NotReady with
 * containerd's words. A CNI's install container writes that file; `kubeadm reset` leaves it alone.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Where containerd's CRI plugin reads network configurations (its `conf_dir`). */
export const CNI_CONF_DIR = '/etc/cni/net.d';

/** The runtime's network state. */
export interface NetworkState {
  ready: boolean;
  /** The configuration file in use, when ready. */
  config?: string;
}

/** The kubelet's NotReady message while the runtime's network is not ready (kubelet + containerd). */
export const NETWORK_NOT_READY_MESSAGE =
  'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized';

function loadable(file: string): boolean {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; type?: unknown; plugins?: unknown };
    return typeof parsed.name === 'string' && (typeof parsed.type === 'string' || (Array.isArray(parsed.plugins) && parsed.plugins.length > 0));
  } catch {
    return false;
  }
}

/** The marker a lab fault leaves in the host's lab folder to break the runtime's network (`node-notready`). */
export function networkBrokenMarker(hostLabDir: string): string {
  return path.join(hostLabDir, 'network-broken');
}

/** The container runtime's network on one host. */
export class RuntimeNetwork {
  constructor(
    /** The host's lab folder, where a fault's marker breaks the network. */
    private readonly hostLabDir: string,
    private readonly confDir: string = CNI_CONF_DIR,
  ) {}

  /** The state now: the first loadable file in name order wins, as in libcni; a fault's marker overrides. */
  state(): NetworkState {
    if (existsSync(networkBrokenMarker(this.hostLabDir)) || !existsSync(this.confDir)) return { ready: false };
    const files = readdirSync(this.confDir)
      .filter((f) => /\.(conf|conflist|json)$/.test(f))
      .sort();
    const config = files.find((f) => loadable(path.join(this.confDir, f)));
    return config ? { ready: true, config } : { ready: false };
  }

  /** Writes a network configuration, as a CNI's install container does. */
  install(name: string, content: string): void {
    mkdirSync(this.confDir, { recursive: true });
    writeFileSync(path.join(this.confDir, name), content.endsWith('\n') ? content : `${content}\n`);
  }
}
