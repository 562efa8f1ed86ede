import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { ConnectionRefusedByPolicy, type NetworkPolicy } from '../network-policy.js';

/**
 * The sockets a destination's AWS clients (Secrets Manager and STS) connect through: Node HTTP
 * agents whose every connection is checked by the destination's strict-networking policy on the
 * address it actually connects to. A hostname is resolved once, by the socket's own `lookup`,
 * and only the allowed addresses are handed back to it, so a name that resolves to an allowed
 * address for a check and to a refused one for the connection (DNS rebinding), or to several
 * addresses of which some are refused, can never make the socket reach a refused one. IP
 * literals, which skip the lookup, are checked directly; and every socket checks its peer
 * once connected, before the request is written.
 */

/** Resolves a hostname to all its addresses; the system's resolver by default, a map of names in tests. */
export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export const systemResolver: Resolver = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

type Connect = (options: http.ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void) => Duplex | null | undefined;

/** The checks around one connection attempt; `connect` is the agent's own (plain TCP or TLS). */
function guardedConnect(
  policy: NetworkPolicy,
  resolve: Resolver,
  connect: Connect,
  options: http.ClientRequestArgs,
  callback: ((err: Error | null, stream: Duplex) => void) | undefined,
): Duplex | null | undefined {
  const host = options.host ?? options.hostname ?? 'localhost';
  const port = Number(options.port);
  if (policy.isChosen(host, port)) return connect(options, callback);
  const refuse = (reason: string) => {
    // The agent reports it as the request's error, before any socket exists.
    callback?.(new ConnectionRefusedByPolicy(host, port, reason), undefined as unknown as Duplex);
    return undefined;
  };
  const portRefusal = policy.portRefusal(port);
  if (portRefusal) return refuse(portRefusal);
  let socket: Duplex | null | undefined;
  if (net.isIP(host)) {
    const refusal = policy.addressRefusal(host);
    if (refusal) return refuse(refusal);
    socket = connect(options, callback);
  } else {
    const lookup: net.LookupFunction = (hostname, lookupOptions, done) => {
      resolve(hostname).then(
        (found) => {
          const wanted = lookupOptions.family === 4 || lookupOptions.family === 6 ? found.filter((a) => a.family === lookupOptions.family) : found;
          const allowed = wanted.filter((a) => policy.addressRefusal(a.address) === undefined);
          if (allowed.length === 0) {
            const reasons = [...new Set(wanted.map((a) => policy.addressRefusal(a.address)))].join('; ');
            done(new ConnectionRefusedByPolicy(hostname, port, wanted.length === 0 ? 'the name resolves to no address' : reasons), '', 0);
          } else if (lookupOptions.all) {
            done(null, allowed.map((a) => ({ address: a.address, family: a.family })));
          } else {
            done(null, allowed[0]!.address, allowed[0]!.family);
          }
        },
        (err: NodeJS.ErrnoException) => done(err, '', 0),
      );
    };
    socket = connect({ ...options, lookup } as http.ClientRequestArgs, callback);
  }
  // The peer, once connected, is checked again (this listener runs before the request's pending write).
  socket?.once('connect', () => {
    const peer = (socket as net.Socket).remoteAddress;
    const refusal = peer === undefined ? 'the peer address is unknown' : policy.addressRefusal(peer);
    if (refusal) socket!.destroy(new ConnectionRefusedByPolicy(host, port, refusal));
  });
  return socket;
}

class GuardedHttpAgent extends http.Agent {
  constructor(
    private readonly policy: NetworkPolicy,
    private readonly resolve: Resolver,
  ) {
    super({ keepAlive: true, maxSockets: 50 });
  }

  override createConnection(options: http.ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    return guardedConnect(this.policy, this.resolve, (o, cb) => super.createConnection(o, cb), options, callback);
  }
}

class GuardedHttpsAgent extends https.Agent {
  constructor(
    private readonly policy: NetworkPolicy,
    private readonly resolve: Resolver,
  ) {
    super({ keepAlive: true, maxSockets: 50 });
  }

  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    return guardedConnect(this.policy, this.resolve, (o, cb) => super.createConnection(o as https.RequestOptions, cb), options, callback);
  }
}

/** One destination's agents, for its Secrets Manager and STS clients alike. */
export interface DestinationAgents {
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
  destroy(): void;
}

export function destinationAgents(policy: NetworkPolicy, resolve: Resolver): DestinationAgents {
  const httpAgent = new GuardedHttpAgent(policy, resolve);
  const httpsAgent = new GuardedHttpsAgent(policy, resolve);
  return {
    httpAgent,
    httpsAgent,
    destroy: () => {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
