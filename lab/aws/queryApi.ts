/**
 * The bits of AWS's Query protocol the front speaks itself: reading a call's action and service,
 * and writing DescribeTargetHealth answers and error answers in the XML the SDK parses (the same
 * shape moto and AWS send).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { LabFaultKind } from './types';

/** The ELBv2 API's XML namespace (API version 2015-12-01). */
export const ELBV2_NAMESPACE = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';

/** The AWS service a call is for, as SigV4's credential scope names it (`elasticloadbalancing`, `ec2`, ...). */
export function serviceOf(headers: IncomingHttpHeaders, params: URLSearchParams): string | undefined {
  const auth = headers.authorization ?? '';
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(auth);
  if (scope) return scope[1];
  const version = params.get('Version');
  if (version === '2015-12-01') return 'elasticloadbalancing';
  if (version === '2016-11-15') return 'ec2';
  return undefined;
}

/** A target as a DescribeTargetHealth call names it (`Targets.member.N.Id` / `.Port`). */
export interface RequestedTarget {
  id: string;
  port?: number;
}

/** The targets a DescribeTargetHealth call asks about; empty for "every registered target". */
export function requestedTargets(params: URLSearchParams): RequestedTarget[] {
  const targets: RequestedTarget[] = [];
  for (let n = 1; params.has(`Targets.member.${n}.Id`); n++) {
    const id = params.get(`Targets.member.${n}.Id`) ?? '';
    const port = params.get(`Targets.member.${n}.Port`);
    targets.push(port ? { id, port: Number(port) } : { id });
  }
  return targets;
}

/** One row of a DescribeTargetHealth answer. */
export interface TargetHealthRow {
  id: string;
  port: number;
  healthCheckPort?: string;
  state: string;
  reason?: string;
  description?: string;
}

function xmlEscape(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}

function element(name: string, value: string | number | undefined): string {
  return value === undefined ? '' : `<${name}>${xmlEscape(String(value))}</${name}>`;
}

/** An XML answer with its status and the headers AWS sends with it. */
export interface XmlAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function xmlAnswer(status: number, body: string, requestId: string): XmlAnswer {
  return { status, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId, 'content-length': String(Buffer.byteLength(body)) }, body };
}

/** The DescribeTargetHealth answer for these rows. */
export function describeTargetHealthAnswer(rows: readonly TargetHealthRow[]): XmlAnswer {
  const requestId = randomUUID();
  const members = rows
    .map(
      (r) =>
        `<member><Target>${element('Id', r.id)}${element('Port', r.port)}</Target>${element('HealthCheckPort', r.healthCheckPort)}` +
        `<TargetHealth>${element('State', r.state)}${element('Reason', r.reason)}${element('Description', r.description)}</TargetHealth></member>`,
    )
    .join('');
  const body =
    `<DescribeTargetHealthResponse xmlns="${ELBV2_NAMESPACE}"><DescribeTargetHealthResult><TargetHealthDescriptions>${members}` +
    `</TargetHealthDescriptions></DescribeTargetHealthResult><ResponseMetadata>${element('RequestId', requestId)}</ResponseMetadata></DescribeTargetHealthResponse>`;
  return xmlAnswer(200, body, requestId);
}

/**
 * The error AWS sends for a fault, in the service's own format: the Query APIs (ELBv2 and most
 * others) wrap it in `ErrorResponse`, EC2 in `Response/Errors`. EC2 throttles with 503
 * RequestLimitExceeded, the Query APIs with 400 Throttling.
 */
export function faultAnswer(kind: LabFaultKind, service: string | undefined): XmlAnswer {
  const requestId = randomUUID();
  if (service === 'ec2') {
    const [status, code, message] =
      kind === 'throttle' ? [503, 'RequestLimitExceeded', 'Request limit exceeded.'] : [500, 'InternalError', 'An internal error has occurred'];
    const body = `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error>${element('Code', code)}${element('Message', message)}</Error></Errors>${element('RequestID', requestId)}</Response>`;
    return xmlAnswer(status, body, requestId);
  }
  const [status, type, code, message] =
    kind === 'throttle'
      ? [400, 'Sender', 'Throttling', 'Rate exceeded']
      : [500, 'Receiver', 'InternalFailure', 'The request processing has failed because of an unknown error, exception or failure.'];
  const namespace = service === 'elasticloadbalancing' || service === undefined ? ` xmlns="${ELBV2_NAMESPACE}"` : '';
  const body = `<ErrorResponse${namespace}><Error>${element('Type', type)}${element('Code', code)}${element('Message', message)}</Error>${element('RequestId', requestId)}</ErrorResponse>`;
  return xmlAnswer(status, body, requestId);
}
