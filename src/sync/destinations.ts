import { randomUUID } from 'node:crypto';
import type { FerryError } from '../kernel/errors.js';
import { syncErrors } from './errors.js';
import { MAX_IDENTITY_TOKEN_TTL, OWNER_TAG, SYNC_TAG, type AwsSmConnection, type Destination, type Granularity } from './model.js';
import { effectiveTemplate, sampleName } from './naming.js';
import { parseCidr } from './network-policy.js';
import { TemplateBudgetError, TemplateError, parseTemplate, usesSecretKey } from './template.js';

/** The destination types Ferry can sync to. */
export const DESTINATION_TYPES = ['aws-sm'] as const;
/** Types Vault has that Ferry does not (yet): named in the error so the user knows why. */
const KNOWN_UNSUPPORTED = ['azure-kv', 'gcp-sm', 'gh', 'vercel-project'];

export function checkDestinationType(type: string): asserts type is 'aws-sm' {
  if (type !== 'aws-sm') throw destinationTypeError(type);
}

/** Why `type` cannot be used: a Vault type Ferry does not sync to, or not a destination type at all. */
export function destinationTypeError(type: string): FerryError {
  return KNOWN_UNSUPPORTED.includes(type) ? syncErrors.unsupportedDestinationType(type) : syncErrors.invalidDestinationType(type);
}

/** Coerced aws-sm fields as the route delivers them; all optional (create, update and patch share them). */
export interface AwsSmInput {
  access_key_id?: string;
  secret_access_key?: string;
  region?: string;
  role_arn?: string;
  external_id?: string;
  identity_token_audience?: string;
  identity_token_key?: string;
  identity_token_ttl?: number;
  kms_key_id?: string;
  replica_regions?: Record<string, string>;
  regional_kms_keys?: Record<string, string>;
  secret_name_template?: string;
  custom_tags?: Record<string, string>;
  tags_to_remove?: string[];
  granularity?: string;
  disable_strict_networking?: boolean;
  allowed_ipv4_addresses?: string[];
  allowed_ipv6_addresses?: string[];
  allowed_ports?: number[];
  endpoint_url?: string;
  sts_endpoint_url?: string;
}

const SENSITIVE: Array<keyof AwsSmConnection> = ['access_key_id', 'secret_access_key', 'identity_token_audience', 'identity_token_key'];

export const emptyConnection = (): AwsSmConnection => ({
  access_key_id: '',
  secret_access_key: '',
  region: '',
  role_arn: '',
  external_id: '',
  identity_token_audience: '',
  identity_token_key: '',
  identity_token_ttl: 3600,
  kms_key_id: '',
  replica_regions: {},
  endpoint_url: '',
  sts_endpoint_url: '',
  disable_strict_networking: false,
  allowed_ipv4_addresses: [],
  allowed_ipv6_addresses: [],
  allowed_ports: [],
});

const REGION = /^([a-z]+-)+\d+$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
/** Tags Ferry sets on every synced secret, which custom_tags may not override. */
const RESERVED_TAGS = [SYNC_TAG, OWNER_TAG];

/**
 * Applies a create, update (POST on an existing name) or merge-patch to a destination.
 * `explicitNulls` lists fields a merge patch set to null: they return to their defaults.
 * A masked `*****` sent back for a sensitive field counts as "unchanged".
 */
export function applyAwsSmInput(
  existing: Destination | undefined,
  name: string,
  input: AwsSmInput,
  explicitNulls: string[],
  mode: 'write' | 'patch',
  nowIso: string,
): Destination {
  const base: Destination = existing
    ? structuredClone(existing)
    : {
        type: 'aws-sm',
        name,
        connection: emptyConnection(),
        options: { granularity_level: 'secret-path', secret_name_template: '', custom_tags: {} },
        generation: 0,
        incarnation: randomUUID(),
        created_at: nowIso,
      };
  const c = base.connection;
  const defaults = emptyConnection();
  for (const field of explicitNulls) {
    if (field in defaults) (c as unknown as Record<string, unknown>)[field] = (defaults as unknown as Record<string, unknown>)[field];
    if (field === 'custom_tags') base.options.custom_tags = {};
    if (field === 'granularity') base.options.granularity_level = 'secret-path';
    if (field === 'secret_name_template') base.options.secret_name_template = '';
    if (field === 'regional_kms_keys') c.replica_regions = {};
  }

  const setString = (field: keyof AwsSmConnection, value: string | undefined) => {
    if (value === undefined) return;
    if (SENSITIVE.includes(field) && /^\*+$/.test(value) && value.length > 0) return; // masked echo
    (c as unknown as Record<string, unknown>)[field] = value.trim();
  };
  setString('access_key_id', input.access_key_id);
  setString('secret_access_key', input.secret_access_key);
  if (input.region !== undefined) {
    const region = input.region.trim();
    if (existing && existing.connection.region !== '' && region !== existing.connection.region) {
      throw syncErrors.regionImmutable(existing.connection.region);
    }
    c.region = region;
  }
  if (input.role_arn !== undefined && existing?.connection.role_arn && input.role_arn.trim() !== '') {
    // As Vault: a role may be replaced only by a role of the same AWS account.
    const account = (arn: string) => /^arn:[^:]+:iam::(\d{12}):/.exec(arn)?.[1];
    const before = account(existing.connection.role_arn);
    const after = account(input.role_arn.trim());
    if (before && after && before !== after) {
      throw syncErrors.roleAccountChanged(before, after);
    }
  }
  setString('role_arn', input.role_arn);
  setString('external_id', input.external_id);
  setString('identity_token_audience', input.identity_token_audience);
  setString('identity_token_key', input.identity_token_key);
  if (input.identity_token_ttl !== undefined) {
    // Checked when given, so a destination stored with a longer one can still be edited (its tokens are capped anyway).
    if (input.identity_token_ttl > MAX_IDENTITY_TOKEN_TTL) throw syncErrors.tokenTtlTooLong(input.identity_token_ttl, MAX_IDENTITY_TOKEN_TTL);
    c.identity_token_ttl = input.identity_token_ttl;
  }
  setString('kms_key_id', input.kms_key_id);
  const replicas = input.replica_regions ?? input.regional_kms_keys;
  if (replicas !== undefined) {
    // A merge patch merges the map (null members removed); a write replaces it.
    const merged: Record<string, string | null> = mode === 'patch' ? { ...c.replica_regions, ...replicas } : { ...replicas };
    c.replica_regions = Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== null)) as Record<string, string>;
  }
  setString('endpoint_url', input.endpoint_url);
  setString('sts_endpoint_url', input.sts_endpoint_url);
  if (input.disable_strict_networking !== undefined) c.disable_strict_networking = input.disable_strict_networking;
  if (input.allowed_ipv4_addresses !== undefined) c.allowed_ipv4_addresses = input.allowed_ipv4_addresses;
  if (input.allowed_ipv6_addresses !== undefined) c.allowed_ipv6_addresses = input.allowed_ipv6_addresses;
  if (input.allowed_ports !== undefined) c.allowed_ports = input.allowed_ports;

  if (input.granularity !== undefined) {
    if (input.granularity !== 'secret-path' && input.granularity !== 'secret-key') {
      throw syncErrors.invalidGranularity(input.granularity);
    }
    base.options.granularity_level = input.granularity as Granularity;
  }
  if (input.secret_name_template !== undefined) base.options.secret_name_template = input.secret_name_template.trim();
  if (input.custom_tags !== undefined) {
    // POST replaces the map; PATCH merges it (the merge-patch null deletions arrive as tags_to_remove).
    base.options.custom_tags = mode === 'patch' ? { ...base.options.custom_tags, ...input.custom_tags } : { ...input.custom_tags };
  }
  for (const key of input.tags_to_remove ?? []) delete base.options.custom_tags[key];

  validateDestination(base);
  // The account learnt for the old keys says nothing about new ones (`service.ts` learns theirs).
  if (existing && (c.access_key_id !== existing.connection.access_key_id || c.secret_access_key !== existing.connection.secret_access_key)) {
    delete base.keys_account;
  }
  base.generation += 1;
  // A written destination may have new credentials: the optional permissions are tried afresh.
  delete base.missing_permissions;
  return base;
}

/** Meaning checks on a whole destination, after defaults and merges: each failure is a clear 400. */
export function validateDestination(d: Destination): void {
  const c = d.connection;
  if (c.region === '') throw syncErrors.missingRegion();
  if (!REGION.test(c.region)) throw syncErrors.invalidRegion(c.region);
  if ((c.access_key_id === '') !== (c.secret_access_key === '')) throw syncErrors.keysApart();
  if (c.identity_token_audience !== '' && c.access_key_id !== '') throw syncErrors.identityWithKeys();
  if (c.identity_token_audience !== '' && c.role_arn === '') throw syncErrors.identityWithoutRole();
  if (c.role_arn !== '' && !ROLE_ARN.test(c.role_arn)) throw syncErrors.invalidRoleArn(c.role_arn);
  if (c.identity_token_ttl < 0) throw syncErrors.negativeTokenTtl();
  if (c.kms_key_id.length > 2048) throw syncErrors.kmsKeyTooLong();
  for (const [region, key] of Object.entries(c.replica_regions)) {
    if (!REGION.test(region)) throw syncErrors.invalidReplicaRegion(region);
    if (region === c.region) throw syncErrors.replicaIsOwnRegion(region);
    if (key.length > 2048) throw syncErrors.replicaKmsKeyTooLong(region);
  }
  for (const [field, value] of [
    ['endpoint_url', c.endpoint_url],
    ['sts_endpoint_url', c.sts_endpoint_url],
  ] as const) {
    if (value === '') continue;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw syncErrors.urlUnparseable(field);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw syncErrors.urlScheme(field);
  }
  for (const port of c.allowed_ports) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw syncErrors.invalidPort(port);
  }
  // CIDR notation is required, as in Vault: a bare address is refused rather than read as a /32.
  for (const cidr of c.allowed_ipv4_addresses) if (!parseCidr(cidr, 4)) throw syncErrors.invalidIpv4Cidr(cidr);
  for (const cidr of c.allowed_ipv6_addresses) if (!parseCidr(cidr, 6)) throw syncErrors.invalidIpv6Cidr(cidr);

  const tags = d.options.custom_tags;
  if (Object.keys(tags).length > 50 - RESERVED_TAGS.length) throw syncErrors.tooManyTags();
  for (const [k, v] of Object.entries(tags)) {
    if (k.length < 1 || k.length > 128) throw syncErrors.tagKeyLength(k);
    if (v.length > 256) throw syncErrors.tagValueLength(k);
    if (k.toLowerCase().startsWith('aws:')) throw syncErrors.tagReservedPrefix(k);
    if (RESERVED_TAGS.includes(k)) throw syncErrors.tagReserved(k);
  }

  const template = effectiveTemplate(d.options);
  try {
    parseTemplate(template);
  } catch (err) {
    if (err instanceof TemplateError) throw syncErrors.templateUnparseable(err.message);
    throw err;
  }
  if (d.options.granularity_level === 'secret-key' && !usesSecretKey(template)) throw syncErrors.templateWithoutSecretKey();
  // A template that cannot produce a valid name for an ordinary secret is refused now, and so is
  // one whose rendering is over the budget (`template.ts`): it costs a bounded amount of work to find out.
  let sample: ReturnType<typeof sampleName>;
  try {
    sample = sampleName(d, template);
  } catch (err) {
    if (err instanceof TemplateBudgetError) throw syncErrors.templateOverBudget(err.message);
    throw err;
  }
  if (sample.name === undefined) throw syncErrors.templateUnnameable(sample.rendered);
}
