import { z } from 'zod';
import type { Core } from '../core.js';
import { syncErrors } from './errors.js';
import { vBool, vDuration, vInt, vInts, vKeyPairs, vString, vStrings } from '../kernel/fields.js';
import { defineOperation, type PathSpec } from '../kernel/request.js';
import { normaliseMountPath } from '../sys/mount-table.js';
import { destinationView, type AwsSmInput } from './destinations.js';
import type { Association } from './model.js';
import type { SyncService } from './service.js';

/** The fields of `sys/sync/destinations/aws-sm/:name`, with Vault's weak typing. */
const awsSmFields = {
  access_key_id: vString(),
  secret_access_key: vString(),
  region: vString(),
  role_arn: vString(),
  external_id: vString(),
  identity_token_audience: vString(),
  identity_token_key: vString(),
  identity_token_ttl: vDuration(),
  kms_key_id: vString(),
  replica_regions: vKeyPairs(),
  regional_kms_keys: vKeyPairs(),
  secret_name_template: vString(),
  custom_tags: vKeyPairs(),
  tags_to_remove: vStrings(),
  granularity: vString(),
  disable_strict_networking: vBool(),
  allowed_ipv4_addresses: vStrings(),
  allowed_ipv6_addresses: vStrings(),
  allowed_ports: vInts(),
  endpoint_url: vString(),
  sts_endpoint_url: vString(),
};

const destinationResponse = z.object({
  name: z.string(),
  type: z.string(),
  connection_details: z.record(z.string(), z.unknown()),
  options: z.record(z.string(), z.unknown()),
  purge_initiated_at: z.string().optional(),
  purge_error: z.string().optional(),
});

const associationEntry = z.object({
  accessor: z.string(),
  secret_name: z.string(),
  sync_status: z.string(),
  updated_at: z.string(),
  mount: z.string(),
  sub_key: z.string().optional(),
  last_error: z.string().optional(),
});

const associationsResponse = z.object({
  associated_secrets: z.record(z.string(), associationEntry),
  store_name: z.string(),
  store_type: z.string(),
});

/** One entry per external secret of an association, keyed as Vault keys them. */
export function associationEntries(a: Association): Record<string, z.infer<typeof associationEntry>> {
  const out: Record<string, z.infer<typeof associationEntry>> = {};
  for (const [subKey, t] of Object.entries(a.targets)) {
    if (subKey.startsWith('retired:')) continue;
    const id = a.granularity === 'secret-key' ? `${a.accessor}/${a.secret_name}/${subKey}` : `${a.accessor}/${a.secret_name}`;
    out[id] = {
      accessor: a.accessor,
      secret_name: a.secret_name,
      sync_status: t.status,
      updated_at: t.updated_at,
      mount: a.mount,
      ...(a.granularity === 'secret-key' ? { sub_key: subKey } : {}),
      ...(t.last_error ? { last_error: t.last_error } : {}),
    };
  }
  return out;
}

/** Statuses of one association summarised for the per-secret views. */
function summaryStatus(a: Association): { sync_status: string; updated_at: string } {
  const targets = Object.values(a.targets);
  if (targets.length === 0) return { sync_status: a.removing ? 'UNSYNCING' : 'PENDING', updated_at: a.created_at };
  const failed = targets.find((t) => t.status.endsWith('_ERROR'));
  const latest = targets.map((t) => t.updated_at).sort().at(-1)!;
  if (failed) return { sync_status: failed.status, updated_at: latest };
  const pending = targets.find((t) => t.status !== 'SYNCED');
  return { sync_status: pending?.status ?? 'SYNCED', updated_at: latest };
}

/** Splits a merge-patch body: nulls reset fields; custom_tags members set to null are removed. */
function mergePatchInput(raw: Record<string, unknown>, data: AwsSmInput): { input: AwsSmInput; nulls: string[] } {
  const nulls = Object.entries(raw)
    .filter(([, v]) => v === null)
    .map(([k]) => k);
  const input = { ...data };
  // Nested maps merge as JSON merge patch says: members set to null are removed.
  for (const field of ['replica_regions', 'regional_kms_keys'] as const) {
    const patch = raw[field];
    if (patch && typeof patch === 'object' && !Array.isArray(patch)) {
      input[field] = Object.fromEntries(
        Object.entries(patch as Record<string, unknown>).map(([k, v]) => [k, v === null ? null : typeof v === 'string' ? v : JSON.stringify(v)]),
      ) as Record<string, string>;
    }
  }
  const tags = raw.custom_tags;
  if (tags && typeof tags === 'object' && !Array.isArray(tags)) {
    const removed = Object.entries(tags as Record<string, unknown>)
      .filter(([, v]) => v === null)
      .map(([k]) => k);
    input.custom_tags = Object.fromEntries(
      Object.entries(tags as Record<string, unknown>)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
    );
    input.tags_to_remove = [...(input.tags_to_remove ?? []), ...removed];
  }
  return { input, nulls };
}

/** `sys/sync/*` and `sys/activation-flags`: declared as data, each handler a few lines over SyncService. */
export function syncPaths(core: Core, sync: SyncService): PathSpec[] {
  const associationsOf = async (type: string, name: string) => {
    const dest = await sync.getDestination(type, name);
    if (!dest) throw syncErrors.destinationAbsent();
    const entries = Object.assign({}, ...(await sync.associationsForDisplay(type, name)).map(associationEntries));
    return { data: { associated_secrets: entries, store_name: name, store_type: type } };
  };

  const associatedDestinations = async (mountParam: string, secret: string) => {
    const m = core.mounts.get(normaliseMountPath(mountParam));
    if (!m) throw syncErrors.mountNotFound(mountParam);
    const associations = await Promise.all((await sync.associationsOfSecret(m.accessor, secret)).map((a) => sync.withDisplayStatus(a)));
    if (associations.length === 0) throw syncErrors.associationsAbsent();
    const out: Record<string, unknown> = {};
    for (const a of associations) {
      out[`${a.dest_type}/${a.dest_name}`] = { type: a.dest_type, name: a.dest_name, ...summaryStatus(a) };
    }
    return { data: { associated_destinations: out } };
  };

  const activation = { data: { activated: ['secrets-sync'], unactivated: [] } };
  const configResponse = z.object({ disabled: z.boolean(), queue_capacity: z.number().int() });
  // PATCH (merge patch, as Vault documents it) and POST/PUT (what `vault write` sends) do the same.
  const updateConfig = defineOperation({
    summary: '',
    operationId: '',
    fields: { disabled: vBool(), queue_capacity: vInt() },
    response: configResponse,
    handler: async (req) => {
      const change: { disabled?: boolean; queue_capacity?: number } = {};
      if (req.data.disabled !== undefined) change.disabled = req.data.disabled;
      if (req.data.queue_capacity !== undefined) change.queue_capacity = req.data.queue_capacity;
      return { data: { ...(await sync.updateConfig(change)) } };
    },
  });

  return [
    {
      pattern: 'activation-flags',
      unauthenticated: true,
      operations: {
        read: defineOperation({
          summary: 'Reports activated features (secrets sync is always active in Ferry).',
          operationId: 'system-read-activation-flags',
          handler: async () => activation,
        }),
      },
    },
    {
      pattern: 'activation-flags/secrets-sync/activate',
      operations: {
        write: defineOperation({
          summary: 'Activates secrets sync (accepted for Vault Enterprise scripts; always active).',
          operationId: 'system-write-activation-flags-secrets-sync-activate',
          handler: async () => activation,
        }),
      },
    },
    {
      pattern: 'sync/config',
      operations: {
        read: defineOperation({
          summary: 'Reads the secrets sync configuration.',
          operationId: 'system-read-sync-config',
          response: configResponse,
          handler: async () => ({ data: { ...(await sync.config()) } }),
        }),
        patch: defineOperation({ ...updateConfig, summary: 'Updates the secrets sync configuration (merge patch).', operationId: 'system-patch-sync-config' }),
        write: defineOperation({ ...updateConfig, summary: 'Updates the secrets sync configuration.', operationId: 'system-write-sync-config' }),
        delete: defineOperation({
          summary: 'Resets the secrets sync configuration to its defaults.',
          operationId: 'system-delete-sync-config',
          handler: async () => {
            await sync.updateConfig(null);
          },
        }),
      },
    },
    {
      pattern: 'sync/destinations',
      operations: {
        list: defineOperation({
          summary: 'Lists destinations, grouped by type.',
          operationId: 'system-list-sync-destinations',
          handler: async () => {
            const byType = await sync.listDestinations();
            const types = Object.keys(byType);
            if (types.length === 0) throw syncErrors.nothingListed();
            return {
              data: {
                keys: types.map((t) => `${t}/`),
                key_info: Object.fromEntries(types.map((t) => [`${t}/`, byType[t]])),
                total_destinations: Object.values(byType).reduce((n, names) => n + names.length, 0),
              },
            };
          },
        }),
      },
    },
    {
      pattern: 'sync/destinations/:type',
      operations: {
        list: defineOperation({
          summary: 'Lists the destinations of one type.',
          operationId: 'system-list-sync-destinations-type',
          handler: async (req) => {
            const names = (await sync.listDestinations(req.params.type!))[req.params.type!] ?? [];
            if (names.length === 0) throw syncErrors.nothingListed();
            return { data: { keys: names, total_destinations: names.length } };
          },
        }),
      },
    },
    {
      pattern: 'sync/destinations/:type/:name/associations',
      operations: {
        read: defineOperation({
          summary: 'Lists the associations of a destination with their sync status.',
          operationId: 'system-read-sync-destinations-type-name-associations',
          response: associationsResponse,
          handler: async (req) => associationsOf(req.params.type!, req.params.name!),
        }),
      },
    },
    {
      pattern: 'sync/destinations/:type/:name/associations/set',
      operations: {
        write: defineOperation({
          summary: 'Associates a secret with the destination and syncs it (or re-syncs it).',
          operationId: 'system-write-sync-destinations-type-name-associations-set',
          fields: { mount: vString(), secret_name: vString() },
          response: associationsResponse,
          handler: async (req) => {
            await sync.setAssociation(req.params.type!, req.params.name!, req.data.mount ?? '', req.data.secret_name ?? '', req.token);
            return associationsOf(req.params.type!, req.params.name!);
          },
        }),
      },
    },
    {
      pattern: 'sync/destinations/:type/:name/associations/remove',
      operations: {
        write: defineOperation({
          summary: 'Unsyncs a secret from the destination and removes the association.',
          operationId: 'system-write-sync-destinations-type-name-associations-remove',
          fields: { mount: vString(), secret_name: vString() },
          response: associationsResponse,
          handler: async (req) => {
            await sync.removeAssociation(req.params.type!, req.params.name!, req.data.mount ?? '', req.data.secret_name ?? '');
            return associationsOf(req.params.type!, req.params.name!);
          },
        }),
      },
    },
    {
      pattern: 'sync/destinations/:type/:name',
      exists: async (req) => (await sync.getDestination(req.params.type!, req.params.name!)) !== undefined,
      operations: {
        read: defineOperation({
          summary: 'Reads a destination, with its credentials masked.',
          operationId: 'system-read-sync-destinations-type-name',
          response: destinationResponse,
          handler: async (req) => {
            const d = await sync.getDestination(req.params.type!, req.params.name!);
            if (!d) throw syncErrors.destinationAbsent();
            return { data: destinationView(d) };
          },
        }),
        write: defineOperation({
          summary: 'Creates a destination, or updates the fields given of an existing one.',
          operationId: 'system-write-sync-destinations-aws-sm-name',
          fields: awsSmFields,
          response: destinationResponse,
          handler: async (req) => {
            const d = await sync.writeDestination(req.params.type!, req.params.name!, req.data as AwsSmInput, [], 'write');
            return { data: destinationView(d) };
          },
        }),
        patch: defineOperation({
          summary: 'Updates a destination with a JSON merge patch.',
          operationId: 'system-patch-sync-destinations-aws-sm-name',
          fields: awsSmFields,
          response: destinationResponse,
          handler: async (req) => {
            const { input, nulls } = mergePatchInput(req.raw, req.data as AwsSmInput);
            const d = await sync.writeDestination(req.params.type!, req.params.name!, input, nulls, 'patch');
            return { data: destinationView(d) };
          },
        }),
        delete: defineOperation({
          summary: 'Deletes a destination; purge=true unsyncs every associated secret first.',
          operationId: 'system-delete-sync-destinations-type-name',
          fields: { purge: vBool(), force_delete: vBool() },
          handler: async (req) => {
            await sync.deleteDestination(req.params.type!, req.params.name!, {
              purge: req.data.purge === true,
              force: req.data.force_delete === true,
            });
          },
        }),
      },
    },
    {
      pattern: 'sync/associations',
      operations: {
        list: defineOperation({
          summary: 'Lists every secret with at least one association.',
          operationId: 'system-list-sync-associations',
          handler: async () => {
            const groups = await sync.allAssociationsBySecret();
            const keysOut: string[] = [];
            const keyInfo: Record<string, Array<{ mount: string; secret_path: string }>> = {};
            let total = 0;
            for (const g of groups) {
              const mount = core.mounts.byAccessor(g.accessor);
              const mountPath = mount?.path ?? `${g.accessor}/`;
              const id = `${mountPath.replace(/\/$/, '')}/${g.secret}`;
              keysOut.push(id);
              keyInfo[id] = [{ mount: mountPath, secret_path: g.secret }];
              total += g.destinations.length;
            }
            if (keysOut.length === 0) throw syncErrors.nothingListed();
            keysOut.sort();
            return { data: { keys: keysOut, key_info: keyInfo, total_associations: total, total_secrets: keysOut.length } };
          },
        }),
      },
    },
    {
      pattern: 'sync/associations/destinations',
      operations: {
        read: defineOperation({
          summary: 'Lists the destinations a secret is associated with (query-parameter form).',
          operationId: 'system-read-sync-associations-destinations',
          fields: { mount: vString(), secret_name: vString() },
          handler: async (req) => {
            if (!req.data.mount || !req.data.secret_name) throw syncErrors.missingMountAndSecret();
            return associatedDestinations(req.data.mount, req.data.secret_name);
          },
        }),
      },
    },
    {
      pattern: 'sync/associations/:path+',
      operations: {
        read: defineOperation({
          summary: 'Lists the destinations a secret is associated with.',
          operationId: 'system-read-sync-associations-mount-secret-name',
          handler: async (req) => {
            // The path form is ambiguous when mount or secret contain "/": resolve the mount by longest prefix.
            const path = req.params.path!;
            const mount = core.mounts.resolve(path);
            if (!mount || !path.startsWith(mount.path)) throw syncErrors.associationsAbsent();
            return associatedDestinations(mount.path, path.slice(mount.path.length));
          },
        }),
      },
    },
  ];
}
