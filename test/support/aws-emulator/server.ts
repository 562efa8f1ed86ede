/**
 * The HTTP front: one listener serving Secrets Manager (awsJson1_1, by `X-Amz-Target`), STS
 * (awsQuery form posts) and the admin API (`/_emulator/…`). Faults are applied here, before a
 * service sees the call; every service call is logged with its outcome.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Socket } from 'node:net';
import { ADMIN_PREFIX, handleAdmin } from './admin.js';
import type { RawRequest } from './auth.js';
import type { EmulatorCore } from './emulator.js';
import { AwsError } from './errors.js';
import type { LogFields, RequestLogEntry, ServiceReply } from './log.js';
import { requiredActions } from './secrets-manager/access.js';
import { handleSecretsManager, jsonError, operationOf } from './secrets-manager/service.js';
import { headerValues } from './sigv4.js';
import { xmlError } from './sts/protocol.js';
import { handleSts, stsParams } from './sts/service.js';

const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Drops a connection with a TCP reset, as a crashed or overloaded peer would. */
function reset(socket: Socket): void {
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

function readBody(req: http.IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The IAM actions a call needs, from its operation and (best effort) its body; see RequestLogEntry.actions. */
function actionsOf(service: RequestLogEntry['service'], operation: string, body: Buffer): string[] {
  if (operation === '') return [];
  if (service === 'sts') return [`sts:${operation}`];
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  return requiredActions(operation, parsed);
}

function sdkAttempt(headers: Map<string, string[]>): number | undefined {
  const m = /attempt=(\d+)/.exec(headers.get('amz-sdk-request')?.[0] ?? '');
  return m === null ? undefined : Number(m[1]);
}

export function createEmulatorServer(core: EmulatorCore): http.Server {
  const server = http.createServer();

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(core, req, res).catch((e: unknown) => {
      console.error('aws-emulator: request failed', e);
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  return server;
}

async function handle(core: EmulatorCore, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const isAdmin = url === ADMIN_PREFIX || url.startsWith(`${ADMIN_PREFIX}/`) || url.startsWith(`${ADMIN_PREFIX}?`);
  // 'refuse': the call is dropped on arrival, before its body is read or anything is handled
  // (checked per call rather than per connection so the admin API stays reachable).
  if (!isAdmin && core.faults.take(['refuse'], undefined, core.now()) !== undefined) {
    reset(req.socket);
    return;
  }
  const body = await readBody(req);
  if (body === undefined) {
    res.writeHead(413, { connection: 'close' }).end();
    return;
  }
  if (isAdmin) {
    const reply = handleAdmin(core, req.method ?? 'GET', url, body);
    const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
    res.writeHead(reply.status, reply.body === undefined ? {} : { 'content-type': 'application/json' }).end(text);
    return;
  }

  const raw: RawRequest = { method: req.method ?? 'GET', url, headers: headerValues(req.rawHeaders), body };
  const target = raw.headers.get('x-amz-target')?.[0];
  const contentType = raw.headers.get('content-type')?.[0] ?? '';
  const service: RequestLogEntry['service'] =
    target !== undefined || contentType.startsWith('application/x-amz-json') ? 'secretsmanager' : 'sts';
  const operation = service === 'secretsmanager' ? operationOf(target ?? '') : (stsParams(raw).get('Action') ?? '');
  const requestId = randomUUID();
  const started = core.now();
  const actions = actionsOf(service, operation, body);

  const latency = core.faults.takeAll('latency', operation, started).reduce((sum, f) => sum + (f.latencyMs ?? 0), 0);
  if (latency > 0) await new Promise((r) => setTimeout(r, latency));
  const fault = core.faults.take(['500', 'throttle', 'reset'], operation, core.now());
  const record = (status: number, log: LogFields) =>
    core.log.push({
      time: started,
      service,
      ...log,
      actions,
      status,
      ...(latency > 0 ? { delayedMs: latency } : {}),
      requestId,
      ...(sdkAttempt(raw.headers) !== undefined ? { sdkAttempt: sdkAttempt(raw.headers) } : {}),
      ...(raw.headers.get('amz-sdk-invocation-id') !== undefined
        ? { sdkInvocationId: raw.headers.get('amz-sdk-invocation-id')![0] }
        : {}),
    });

  if (fault?.kind === 'reset' && fault.applyBeforeReset !== true) {
    record(0, { operation, errorCode: 'ConnectionReset' });
    reset(req.socket);
    return;
  }
  let reply: ServiceReply;
  if (fault?.kind === '500' || fault?.kind === 'throttle') {
    const err =
      service === 'secretsmanager'
        ? fault.kind === '500'
          ? new AwsError('InternalServiceError', 'An error occurred on the server side.', 500)
          : new AwsError('ThrottlingException', 'Rate exceeded')
        : fault.kind === '500'
          ? new AwsError('InternalFailure', 'An internal error occurred.', 500)
          : new AwsError('Throttling', 'Rate exceeded');
    reply = service === 'secretsmanager' ? jsonError(err, { operation }) : xmlError(err, requestId, { operation });
  } else if (service === 'secretsmanager') {
    reply = handleSecretsManager(core.envForSecretsManager(), raw, target ?? '');
  } else {
    reply = await handleSts(core.envForSts(), raw, requestId);
  }
  if (fault?.kind === 'reset') {
    // Applied, but the answer is lost: the client must retry with the same idempotency token.
    record(0, { ...reply.log, errorCode: 'ConnectionReset' });
    reset(req.socket);
    return;
  }
  record(reply.status, reply.log);
  res.writeHead(reply.status, {
    ...reply.headers,
    'x-amzn-requestid': requestId,
    date: new Date(core.wallNow()).toUTCString(),
    'content-length': Buffer.byteLength(reply.body),
  });
  res.end(reply.body);
}
