import net from 'node:net';
import { parseCidr as parseKernelCidr } from '../kernel/cidr.js';
import type { AwsSmConnection } from './model.js';

/**
 * Vault's strict networking for sync destinations (secrets-sync.md §7.5): by default a
 * destination's outbound connections may not reach the IANA special-purpose address ranges nor
 * any port but 80 and 443; `allowed_ipv4_addresses`, `allowed_ipv6_addresses` (CIDRs) and
 * `allowed_ports` widen that, and `disable_strict_networking` turns the checks off. This module
 * only decides; `aws-sm/connections.ts` applies the decision to the address each socket
 * actually connects to, after DNS resolution.
 */

/** IPv4 special-purpose ranges (IANA registry, RFC 6890 and successors), plus multicast, with what each is. */
const IPV4_REFUSED: Array<[string, number, string]> = [
  ['0.0.0.0', 8, '"this network"'],
  ['10.0.0.0', 8, 'private-use'],
  ['100.64.0.0', 10, 'shared address space (carrier-grade NAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local, where cloud instance metadata lives'],
  ['172.16.0.0', 12, 'private-use'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.31.196.0', 24, 'AS112-v4'],
  ['192.52.193.0', 24, 'AMT'],
  ['192.88.99.0', 24, 'deprecated 6to4 relay anycast'],
  ['192.168.0.0', 16, 'private-use'],
  ['192.175.48.0', 24, 'direct delegation AS112 service'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
  ['255.255.255.255', 32, 'limited broadcast'],
];

/**
 * IPv6: only global unicast (2000::/3) is reachable by default — which leaves out loopback,
 * unspecified, IPv4-mapped and -translated, unique-local, link-local and multicast addresses —
 * minus the special-purpose ranges inside it.
 */
const IPV6_GLOBAL_UNICAST: [string, number] = ['2000::', 3];
const IPV6_REFUSED: Array<[string, number, string]> = [
  ['2001::', 23, 'IETF protocol assignments'],
  ['2001:db8::', 32, 'documentation'],
  ['2002::', 16, '6to4'],
  ['2620:4f:8000::', 48, 'direct delegation AS112 service'],
  ['3fff::', 20, 'documentation'],
];

const DEFAULT_PORTS = [80, 443];

/** A CIDR as the `allowed_ipv*_addresses` fields take it: an address of `family` and a prefix length, both required (as in Vault); surrounding blanks ignored. */
export function parseCidr(cidr: string, family: 4 | 6): { address: string; prefix: number } | undefined {
  const parsed = parseKernelCidr(cidr.trim(), { prefixRequired: true });
  return parsed?.family === (family === 4 ? 'ipv4' : 'ipv6') ? { address: parsed.network, prefix: parsed.prefix } : undefined;
}

/** `::ffff:a.b.c.d` (any spelling) as the IPv4 address it maps; any other address as it is. */
export function unmapIpv4(address: string): { address: string; family: 4 | 6 } {
  if (net.isIPv4(address)) return { address, family: 4 };
  let canonical: string;
  try {
    // The URL parser writes an IPv6 address in one canonical form: an IPv4-mapped one as ::ffff:hhhh:hhhh.
    canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return { address, family: 6 };
  }
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!mapped) return { address, family: 6 };
  const [hi, lo] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)];
  return { address: [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.'), family: 4 };
}

function blockList(ranges: Array<[string, number, ...unknown[]]>, type: 'ipv4' | 'ipv6'): net.BlockList {
  const list = new net.BlockList();
  for (const [address, prefix] of ranges) list.addSubnet(address, prefix, type);
  return list;
}

const REFUSED_V4 = IPV4_REFUSED.map(([address, prefix, what]) => ({ list: blockList([[address, prefix]], 'ipv4'), what: `${what} (${address}/${prefix})` }));
const REFUSED_V6 = IPV6_REFUSED.map(([address, prefix, what]) => ({ list: blockList([[address, prefix]], 'ipv6'), what: `${what} (${address}/${prefix})` }));
const GLOBAL_UNICAST_V6 = blockList([IPV6_GLOBAL_UNICAST], 'ipv6');

/** An endpoint an operator chose (`endpoint_url`, `sts_endpoint_url`): its host and port. */
export interface ChosenEndpoint {
  host: string;
  port: number;
}

/** The host and port a URL connects to (brackets off an IPv6 literal, the scheme's port when none is given). */
export function endpointOf(url: string): ChosenEndpoint | undefined {
  if (url === '') return undefined;
  try {
    const u = new URL(url);
    return { host: u.hostname.replace(/^\[|\]$/g, '').toLowerCase(), port: u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80 };
  } catch {
    return undefined;
  }
}

/**
 * The decision for one destination. `chosen` are the endpoints a sudo holder set: a connection to
 * one of them (its host and port) is allowed by itself, whatever that host resolves to, since the
 * operator chose it. `blocked`, when set, refuses every connection (an endpoint the server's
 * configuration no longer allows).
 */
export class NetworkPolicy {
  private readonly strict: boolean;
  private readonly allowedV4: net.BlockList;
  private readonly allowedV6: net.BlockList;
  private readonly ports: Set<number>;

  constructor(
    connection: Pick<AwsSmConnection, 'disable_strict_networking' | 'allowed_ipv4_addresses' | 'allowed_ipv6_addresses' | 'allowed_ports'>,
    private readonly chosen: ChosenEndpoint[] = [],
    private readonly blocked?: string,
  ) {
    this.strict = !connection.disable_strict_networking;
    this.allowedV4 = new net.BlockList();
    this.allowedV6 = new net.BlockList();
    for (const cidr of connection.allowed_ipv4_addresses) {
      const c = parseCidr(cidr, 4);
      if (c) this.allowedV4.addSubnet(c.address, c.prefix, 'ipv4');
    }
    for (const cidr of connection.allowed_ipv6_addresses) {
      const c = parseCidr(cidr, 6);
      if (c) this.allowedV6.addSubnet(c.address, c.prefix, 'ipv6');
    }
    this.ports = new Set([...DEFAULT_PORTS, ...connection.allowed_ports]);
  }

  /** Whether `host:port` is an endpoint the operator chose (exempt from the address and port rules). */
  isChosen(host: string, port: number): boolean {
    const h = host.replace(/^\[|\]$/g, '').toLowerCase();
    return this.chosen.some((e) => e.host === h && e.port === port);
  }

  /** Why a connection to `port` is refused, or undefined when it is allowed. */
  portRefusal(port: number): string | undefined {
    if (this.blocked) return this.blocked;
    if (!this.strict || this.ports.has(port)) return undefined;
    return `port ${port} is not 80 or 443 (allowed_ports widens this)`;
  }

  /** Why a connection to `address` is refused, or undefined when it is allowed. */
  addressRefusal(raw: string): string | undefined {
    if (this.blocked) return this.blocked;
    if (!this.strict) return undefined;
    const { address, family } = unmapIpv4(raw);
    if (family === 4) {
      if (this.allowedV4.check(address, 'ipv4')) return undefined;
      const hit = REFUSED_V4.find((r) => r.list.check(address, 'ipv4'));
      return hit && `${address} is ${hit.what}, an IANA special-purpose address (allowed_ipv4_addresses widens this)`;
    }
    if (!net.isIPv6(address)) return `${address} is not an IP address`;
    if (this.allowedV6.check(address, 'ipv6')) return undefined;
    if (!GLOBAL_UNICAST_V6.check(address, 'ipv6')) return `${address} is not a global unicast IPv6 address (allowed_ipv6_addresses widens this)`;
    const hit = REFUSED_V6.find((r) => r.list.check(address, 'ipv6'));
    return hit && `${address} is ${hit.what}, an IANA special-purpose address (allowed_ipv6_addresses widens this)`;
  }
}

/**
 * A connection strict networking refused. Final: it is the destination's configuration, not
 * the network, that has to change.
 */
export class ConnectionRefusedByPolicy extends Error {
  readonly code = 'EFERRYNETPOLICY';

  constructor(host: string, port: number, reason: string) {
    super(`strict networking refused to connect to ${host} port ${port}: ${reason}`);
    this.name = 'ConnectionRefusedByPolicy';
  }
}

/** The policy refusal in an error or its causes, if any (the SDK may wrap the socket's error). */
export function policyRefusalIn(err: unknown, depth = 0): ConnectionRefusedByPolicy | undefined {
  if (!err || typeof err !== 'object' || depth > 10) return undefined;
  if (err instanceof ConnectionRefusedByPolicy || (err as { code?: string }).code === 'EFERRYNETPOLICY') return err as ConnectionRefusedByPolicy;
  return policyRefusalIn((err as { cause?: unknown }).cause, depth + 1);
}
