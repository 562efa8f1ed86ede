import { BlockList, isIP } from 'node:net';

/**
 * CIDR lists as Vault's `*_bound_cidrs` fields hold them: `10.0.0.0/8`, `2001:db8::/32`, or a
 * bare address (a /32 or /128). Parsed once into Node's `BlockList`, which also matches
 * IPv4-mapped IPv6 peers (`::ffff:10.1.2.3`) against IPv4 blocks, as a dual-stack listener
 * reports them.
 */

/** The first entry that is not an address or a CIDR block, or undefined when all are. */
export function invalidCidr(cidrs: string[]): string | undefined {
  return cidrs.find((cidr) => parseCidr(cidr) === undefined);
}

/** A CIDR block: its network address, prefix length and family. */
export interface Cidr {
  network: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/**
 * Parses `10.0.0.0/8` or `2001:db8::/32`. A bare address is a /32 or /128 where Vault's
 * `*_bound_cidrs` take one (the default), and no CIDR at all with `prefixRequired` (sync's
 * `allowed_ipv*_addresses`, where Vault requires CIDR notation).
 */
export function parseCidr(cidr: string, options: { prefixRequired?: boolean } = {}): Cidr | undefined {
  const slash = cidr.indexOf('/');
  const network = slash === -1 ? cidr : cidr.slice(0, slash);
  const version = isIP(network);
  if (version === 0) return undefined;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const max = version === 4 ? 32 : 128;
  if (slash === -1) return options.prefixRequired ? undefined : { network, prefix: max, family };
  const text = cidr.slice(slash + 1);
  if (!/^\d{1,3}$/.test(text) || Number(text) > max) return undefined;
  return { network, prefix: Number(text), family };
}

/** Whether `address` (a peer address as the socket reports it) lies in one of `cidrs`; an empty list allows every address. */
export function addressAllowed(cidrs: readonly string[] | undefined, address: string): boolean {
  if (!cidrs || cidrs.length === 0) return true;
  const version = isIP(address);
  if (version === 0) return false;
  const blocks = new BlockList();
  for (const cidr of cidrs) {
    const parsed = parseCidr(cidr);
    if (parsed) blocks.addSubnet(parsed.network, parsed.prefix, parsed.family);
  }
  return blocks.check(address, version === 4 ? 'ipv4' : 'ipv6');
}

/** Whether every block of `inner` lies inside some block of `outer` (a secret ID's CIDRs within its role's). */
export function cidrsWithin(inner: readonly string[], outer: readonly string[]): boolean {
  if (outer.length === 0) return true;
  return inner.every((cidr) => {
    const parsed = parseCidr(cidr);
    if (!parsed) return false;
    return outer.some((o) => {
      const container = parseCidr(o);
      return container !== undefined && container.family === parsed.family && container.prefix <= parsed.prefix &&
        addressAllowed([o], parsed.network);
    });
  });
}

/** The peer address without the IPv4-mapped prefix, as Vault prints it in CIDR errors. */
export function displayAddress(address: string): string {
  return address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
}
