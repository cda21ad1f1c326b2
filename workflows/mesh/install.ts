/** Steps install-crds, install-control-plane and multicluster-install: Linkerd on both clusters. */
import type { ClusterAccess, InstallResult } from '../../activities/mesh/types';
import { meshInstall } from './activities';
import { bothClusters, installMessage, waitRollout } from './clusters';
import type { MeshContext } from './data';
import { trustOf } from './trust';

export async function installCrds(ctx: MeshContext): Promise<void> {
  await bothClusters(ctx, 'install-crds', async (access) => {
    const result = await meshInstall.installLinkerdCrds.executeWithOptions({ summary: `Linkerd CRDs on ${access.name}` }, [
      { cluster: access, dryRun: ctx.config.dryRun },
    ]);
    return installMessage(result);
  });
}

export async function installControlPlane(ctx: MeshContext): Promise<void> {
  const trust = await trustOf(ctx);
  await installAndRollOut(ctx, 'install-control-plane', (access) =>
    meshInstall.installControlPlane.executeWithOptions({ summary: `Linkerd control plane on ${access.name}` }, [
      { cluster: access, trust, set: ctx.config[access.role].set },
    ]),
  );
}

export async function installMulticluster(ctx: MeshContext): Promise<void> {
  await installAndRollOut(
    ctx,
    'multicluster-install',
    (access) => {
      const controllersFor = access.role === 'west' && ctx.linkCommand === 'link-gen' ? [ctx.pre.east.name] : [];
      return meshInstall.installMulticluster.executeWithOptions({ summary: `multicluster extension on ${access.name}` }, [{ cluster: access, controllersFor }]);
    },
    '; rolled out',
  );
}

/** Installs on both clusters at once, each waiting for what its install rolled out. */
async function installAndRollOut(ctx: MeshContext, step: string, install: (access: ClusterAccess) => Promise<InstallResult>, done = ''): Promise<void> {
  await bothClusters(ctx, step, async (access) => {
    const result = await install(access);
    await waitRollout(ctx, step, access, result.workloads);
    return `${installMessage(result)}${done}`;
  });
}
