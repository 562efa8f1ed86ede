import { describe, expect, it } from 'vitest';
import { NetworkPolicy, parseCidr, unmapIpv4 } from '../../src/sync/network-policy.js';

const none = { disable_strict_networking: false, allowed_ipv4_addresses: [], allowed_ipv6_addresses: [], allowed_ports: [] };

describe('the strict-networking decision', () => {
  it("refuses Vault's special-purpose ranges by default and allows public addresses on 80 and 443", () => {
    const p = new NetworkPolicy(none);
    for (const refused of ['0.0.0.0', '10.9.8.7', '100.64.0.1', '127.0.0.1', '169.254.169.254', '172.31.255.255', '192.0.0.8', '192.168.1.1', '198.18.0.1', '224.0.0.251', '255.255.255.255']) {
      expect([refused, p.addressRefusal(refused)]).toEqual([refused, expect.stringContaining('IANA special-purpose')]);
    }
    for (const refused of ['::', '::1', 'fe80::1', 'fc00::1', 'ff02::1', '64:ff9b::a00:1', '::ffff:10.0.0.1', '2001:db8::1', '2002:7f00:1::']) {
      expect([refused, p.addressRefusal(refused)]).toEqual([refused, expect.any(String)]);
    }
    for (const allowed of ['52.94.133.131', '3.5.0.1', '2600:1f18::1', '::ffff:52.94.133.131']) expect([allowed, p.addressRefusal(allowed)]).toEqual([allowed, undefined]);
    expect([p.portRefusal(443), p.portRefusal(80), p.portRefusal(8443)]).toEqual([undefined, undefined, 'port 8443 is not 80 or 443 (allowed_ports widens this)']);
  });

  it('is widened by allowed_* (an IPv4-mapped address counts as IPv4), and turned off by disable_strict_networking', () => {
    const p = new NetworkPolicy({ ...none, allowed_ipv4_addresses: ['10.1.0.0/16'], allowed_ipv6_addresses: ['fd00::/8'], allowed_ports: [4566] });
    expect([p.addressRefusal('10.1.2.3'), p.addressRefusal('::ffff:a01:203'), p.addressRefusal('fd12::1'), p.portRefusal(4566)]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(p.addressRefusal('10.2.0.1')).toContain('private-use (10.0.0.0/8)');
    const off = new NetworkPolicy({ ...none, disable_strict_networking: true });
    expect([off.addressRefusal('127.0.0.1'), off.portRefusal(22)]).toEqual([undefined, undefined]);
  });

  it('lets an endpoint the operator chose through by host and port, and refuses everything when blocked', () => {
    const p = new NetworkPolicy(none, [{ host: 'localhost', port: 4566 }]);
    expect([p.isChosen('LOCALHOST', 4566), p.isChosen('localhost', 4567), p.isChosen('127.0.0.1', 4566)]).toEqual([true, false, false]);
    const blocked = new NetworkPolicy({ ...none, disable_strict_networking: true }, [], 'not allowed');
    expect([blocked.addressRefusal('52.94.133.131'), blocked.portRefusal(443)]).toEqual(['not allowed', 'not allowed']);
  });

  it('reads CIDRs only with a prefix length, and unmaps IPv4-mapped IPv6 in any spelling', () => {
    expect([parseCidr('10.0.0.0/8', 4), parseCidr('10.0.0.1', 4), parseCidr('10.0.0.0/33', 4), parseCidr('fd00::/8', 6), parseCidr('fd00::/8', 4)]).toEqual([
      { address: '10.0.0.0', prefix: 8 },
      undefined,
      undefined,
      { address: 'fd00::', prefix: 8 },
      undefined,
    ]);
    expect([parseCidr(' 10.0.0.0/8 ', 4), parseCidr('10.0.0.0/8/8', 4), parseCidr('10.0.0.0/', 4), parseCidr('::/0', 6)]).toEqual([
      { address: '10.0.0.0', prefix: 8 },
      undefined,
      undefined,
      { address: '::', prefix: 0 },
    ]);
    for (const spelling of ['::ffff:127.0.0.1', '::FFFF:7f00:1', '0:0:0:0:0:ffff:7f00:0001']) expect(unmapIpv4(spelling)).toEqual({ address: '127.0.0.1', family: 4 });
    expect(unmapIpv4('2600::1')).toEqual({ address: '2600::1', family: 6 });
  });
});
