/**
 * The precheck that needs nothing of west: east's gateway and services ready, east's own splits present,
 * and each service's Route 53 record pair in place. Every check runs at once (a failover is urgent and
 * the checks are independent reads); each finding lands on the step as a host condition.
 */
import { rootMessage } from '../engine/steps';
import { dns, failover } from './activities';
import type { FailoverContext } from './data';
import { readiness } from './readiness';

type Finding = { name: string; ok: boolean; detail: string };

/** The reasons east cannot take the load (none: it can). */
export async function gtmPrecheck(ctx: FailoverContext): Promise<string[]> {
  const { config, tracker } = ctx;
  const gateway = `east gateway ${config.east.gateway.namespace}/${config.east.gateway.service}`;
  const checks: Array<Promise<Finding>> = [
    readiness(config.east.kubeconfigSecret, config.east.gateway.namespace, config.east.gateway.service, gateway).then((r) => ({ name: gateway, ...r })),
  ];
  for (const s of ctx.services) {
    const east = `east service ${s.namespace}/${s.eastService}`;
    checks.push(readiness(config.east.kubeconfigSecret, s.namespace, s.eastService, east).then((r) => ({ name: east, ...r })));
    if (s.eastSplit) checks.push(eastSplitFinding(ctx, s));
    if (s.gtm) checks.push(recordFinding(ctx, s));
  }
  const findings = await Promise.all(checks);
  const reasons: string[] = [];
  for (const f of findings) {
    tracker.setHost('precheck', f.name, f.ok ? 'done' : 'failed', f.ok ? 'Ready' : 'NotReady', f.detail);
    if (!f.ok) reasons.push(`${f.name}: ${f.detail}`);
  }
  return reasons;
}

async function eastSplitFinding(ctx: FailoverContext, s: FailoverContext['services'][number]): Promise<Finding> {
  const split = s.eastSplit!;
  const name = `east split ${s.namespace}/${split.name}`;
  try {
    const w = await failover.readSplit.executeWithOptions({ summary: name }, [
      {
        kubeconfigSecret: ctx.config.east.kubeconfigSecret,
        kind: split.kind,
        apiVersion: split.apiVersion,
        namespace: s.namespace,
        name: split.name,
        westBackend: split.westBackend,
        eastBackend: split.eastBackend,
      },
    ]);
    return { name, ok: true, detail: `${split.westBackend} ${w.west} / ${split.eastBackend} ${w.east}` };
  } catch (err) {
    return { name, ok: false, detail: rootMessage(err) };
  }
}

async function recordFinding(ctx: FailoverContext, s: FailoverContext['services'][number]): Promise<Finding> {
  const record = s.gtm!;
  const name = `dns ${record.recordName} ${record.type}`;
  try {
    const state = await dns.readGtmWeights.executeWithOptions({ summary: name }, [{ route53: ctx.config.route53, record }]);
    if (state.west === undefined || state.east === undefined) {
      const missing = [state.west === undefined ? 'kubeha-west' : '', state.east === undefined ? 'kubeha-east' : ''].filter(Boolean).join(' and ');
      return {
        name,
        ok: false,
        detail: `no weighted record ${missing} in zone ${record.zoneName} (${record.hostedZoneId}): create the pair (west 100, east 0) before a failover needs it`,
      };
    }
    return {
      name,
      ok: true,
      detail: `west ${state.west} / east ${state.east}${state.inShape ? '' : ' (targets or TTL differ from the input: the shift rewrites them)'}`,
    };
  } catch (err) {
    return { name, ok: false, detail: rootMessage(err) };
  }
}
