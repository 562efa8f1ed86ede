import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type tls from 'node:tls';
import { haErrors } from '../ha/errors.js';
import { LIST_MARKER_HEADER, type WireRequest, type WireResponse } from './wire.js';

/**
 * The cluster channel's TLS: pre-shared-key authentication (TLS-PSK) with the cluster key, on
 * ECDHE key exchange (forward secrecy: a key read later does not open recorded traffic) and
 * ChaCha20-Poly1305 (or DHE and AES-GCM). Both ends prove they hold the key, so the channel is mutually
 * authenticated without certificates. OpenSSL offers PSK suites up to TLS 1.2 only; 1.3 is not used.
 */
export const CLUSTER_CIPHERS = 'ECDHE-PSK-CHACHA20-POLY1305:DHE-PSK-AES256-GCM-SHA384';

/** The key nodes authenticate each other with: undefined while sealed (no handshake succeeds). */
export interface ClusterPsk {
  identity: string;
  key(): Buffer | undefined;
}

/** The cluster listener's TLS options: it accepts only a peer that holds the cluster key. */
export function clusterServerTls(psk: ClusterPsk): tls.TlsOptions {
  return {
    ciphers: CLUSTER_CIPHERS,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.2',
    pskCallback: (_socket: tls.TLSSocket, identity: string) => (identity === psk.identity ? (psk.key() ?? null) : null),
  } as tls.TlsOptions;
}

/** The header carrying the client's address to the active node; trusted only on the cluster listener. */
export const FORWARDED_FOR_HEADER = 'x-ferry-forwarded-for';

/** Request headers that belong to one connection, not to the request (RFC 9110, 7.6.1), and ours. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'host',
  'content-length',
  LIST_MARKER_HEADER,
  FORWARDED_FOR_HEADER,
]);

/** How long a forwarded request may go without a byte either way before it is given up (503). */
const IDLE_TIMEOUT_MS = 90_000;
const ECHO_TIMEOUT_MS = 2_000;

/** `https://host:port` (or `host:port`) → host and port. */
function splitClusterAddr(clusterAddr: string): { host: string; port: number } {
  const url = new URL(clusterAddr.includes('://') ? clusterAddr : `https://${clusterAddr}`);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 8201) };
}

/**
 * Vault's request forwarding: a standby hands a client request, as received, to the active
 * node's cluster listener over the mutually authenticated TLS channel, and hands the answer back
 * as it comes. Client tokens cross only inside that channel. The connections are kept alive
 * (one agent per active node and key).
 */
export class RequestForwarder {
  private agent: { addr: string; key: Buffer; agent: https.Agent } | undefined;

  constructor(private readonly psk: ClusterPsk) {}

  private agentFor(clusterAddr: string): https.Agent {
    const key = this.psk.key();
    if (!key) throw haErrors.forwardingFailed();
    if (this.agent && this.agent.addr === clusterAddr && this.agent.key.equals(key)) return this.agent.agent;
    this.agent?.agent.destroy();
    const identity = this.psk.identity;
    const agent = new https.Agent({
      keepAlive: true,
      maxSockets: 128,
      ciphers: CLUSTER_CIPHERS,
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.2',
      pskCallback: () => ({ identity, psk: key }),
      // No certificate: the key proves the peer (a peer without it fails the handshake).
      checkServerIdentity: () => undefined,
    } as https.AgentOptions);
    this.agent = { addr: clusterAddr, key: Buffer.from(key), agent };
    return agent;
  }

  /** Drops the kept connections (seal: the key is forgotten). */
  reset(): void {
    this.agent?.agent.destroy();
    this.agent = undefined;
  }

  private request(clusterAddr: string, options: https.RequestOptions): { req: import('node:http').ClientRequest; res: Promise<IncomingMessage> } {
    const { host, port } = splitClusterAddr(clusterAddr);
    const agent = this.agentFor(clusterAddr);
    const req = https.request({ ...options, host, port, agent });
    const res = new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
    });
    return { req, res };
  }

  /** Forwards one client request; a failure to reach the active node is a 503, never a 500. */
  async forward(wire: WireRequest, clusterAddr: string): Promise<WireResponse> {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(wire.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name.toLowerCase())) continue;
      headers[name] = value;
    }
    headers[FORWARDED_FOR_HEADER] = wire.remoteAddress;
    const listed = wire.headers[LIST_MARKER_HEADER] !== undefined;
    if (wire.body) headers['content-length'] = String(wire.body.length);
    else if (!wire.upload) headers['content-length'] = '0';
    const options = { method: listed ? 'LIST' : wire.method, path: wire.url, headers };
    let answer: IncomingMessage;
    try {
      answer = await this.send(clusterAddr, options, wire);
    } catch (err) {
      // A kept-alive connection the active node closed just as it was reused: the request never
      // reached it (Node's advice), so it is sent once more on a fresh one; an upload cannot be.
      if (!(err as { reused?: boolean }).reused || wire.upload) throw haErrors.forwardingFailed();
      try {
        answer = await this.send(clusterAddr, options, wire);
      } catch {
        throw haErrors.forwardingFailed();
      }
    }
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name)) continue;
      out[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    return { status: answer.statusCode ?? 502, headers: out, body: answer };
  }

  /** Sends one forwarded request and resolves with the answer's head; a failure on a reused connection is marked `reused`. */
  private async send(clusterAddr: string, options: https.RequestOptions, wire: WireRequest): Promise<IncomingMessage> {
    const { req, res } = this.request(clusterAddr, options);
    req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new Error('the active node did not answer in time')));
    if (wire.upload) {
      void (async () => {
        try {
          for await (const chunk of wire.upload!) if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
          req.end();
        } catch (err) {
          req.destroy(err as Error);
        }
      })();
    } else {
      req.end(wire.body);
    }
    try {
      return await res;
    } catch (err) {
      throw Object.assign(err as Error, { reused: req.reusedSocket && (err as { code?: string }).code === 'ECONNRESET' });
    }
  }

  /** One echo to the active node's cluster listener: proves the channel and reads its clock. */
  async echo(clusterAddr: string): Promise<{ serverTime: number }> {
    const { req, res } = this.request(clusterAddr, { method: 'GET', path: CLUSTER_ECHO_PATH });
    req.setTimeout(ECHO_TIMEOUT_MS, () => req.destroy(new Error('echo timed out')));
    req.end();
    const answer = await res;
    let text = '';
    for await (const chunk of answer) text += chunk;
    if (answer.statusCode !== 200) throw new Error(`echo answered ${answer.statusCode}`);
    return { serverTime: Number((JSON.parse(text) as { time: number }).time) };
  }
}

/** Answered by the cluster listener only: a standby's heartbeat to the active node. */
export const CLUSTER_ECHO_PATH = '/cluster/echo';

/**
 * What a standby answers itself rather than forwarding, as Vault's standbys do: its own health,
 * seal status, leader view, init and unseal (each node is unsealed on its own), its own metrics,
 * and `sys/seal` (Vault refuses to seal a standby; Ferry seals the node asked, which takes it out
 * of the election — restarting it is the other way).
 */
const ANSWERED_LOCALLY = new Set(['sys/health', 'sys/seal-status', 'sys/leader', 'sys/init', 'sys/unseal', 'sys/seal', 'sys/metrics']);

/** Whether a standby answers this request target itself. */
export function answeredLocally(url: string): boolean {
  const q = url.indexOf('?');
  const path = (q === -1 ? url : url.slice(0, q)).replace(/\/{2,}/g, '/').replace(/^\/v1\//, '').replace(/\/$/, '');
  return ANSWERED_LOCALLY.has(path);
}
