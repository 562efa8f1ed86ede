import semver from 'semver';

/**
 * terraform-provider-vault's view of the server version (`internal/provider/meta.go`):
 * `getVaultVersion` reads `version` from `GET /v1/sys/seal-status` and parses it with
 * `version.Must(version.NewSemver(v))` from hashicorp/go-version — a string its semver
 * pattern does not match panics the provider — then `IsAPISupported(min)` is
 * `ver.GreaterThanOrEqual(min)` and `IsEnterpriseSupported` is
 * `strings.Contains(ver.Metadata(), "ent")`.
 *
 * Parsing follows go-version's own pattern (`SemverRegexpRaw` in `version.go`, anchored as
 * `NewSemver` anchors it). Comparing uses the `semver` package (npm's), whose ordering of
 * MAJOR.MINOR.PATCH versions is go-version's `Compare`: segments first, then a version with a
 * prerelease below the same one without, build metadata ignored.
 */
const GO_VERSION_SEMVER =
  /^v?([0-9]+(\.[0-9]+)*?)(-([0-9]+[0-9A-Za-z\-~]*(\.[0-9A-Za-z\-~]+)*)|(-([A-Za-z\-~]+[0-9A-Za-z\-~]*(\.[0-9A-Za-z\-~]+)*)))?(\+([0-9A-Za-z\-~]+(\.[0-9A-Za-z\-~]+)*))??$/;

export interface ProviderVersion {
  version: string;
  /** go-version's `Metadata()`: what follows `+`. */
  metadata: string;
  prerelease: string;
}

/** `version.Must(version.NewSemver(v))`: throws (the provider would panic) on a malformed version. */
export function providerParse(v: string): ProviderVersion {
  const m = GO_VERSION_SEMVER.exec(v);
  if (!m) throw new Error(`malformed version: ${v} (terraform-provider-vault would panic)`);
  const parsed = semver.parse(v);
  if (!parsed) throw new Error(`${v} matches go-version's pattern but is not a MAJOR.MINOR.PATCH version this helper can compare`);
  return { version: v, metadata: m[10] ?? '', prerelease: m[7] || m[4] || '' };
}

/** `IsAPISupported(meta, min)`. */
export function providerSupports(server: ProviderVersion, min: string): boolean {
  return semver.gte(server.version, min);
}

/** `IsEnterpriseSupported(meta)`. */
export function providerSeesEnterprise(server: ProviderVersion): boolean {
  return server.metadata.includes('ent');
}

/** The provider's version constants the secrets-sync resources gate on (`provider.VaultVersion…`). */
export const VAULT_VERSION = { v116: '1.16.0', v119: '1.19.0', v200: '2.0.0', v210: '2.1.0', v220: '2.2.0' } as const;
