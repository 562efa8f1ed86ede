import { z } from 'zod';
import { vBool, vDuration, vKeyPairs, vString, vStrings, vInts } from '../kernel/fields.js';
import { definePath, param, type LogicalRequest, type PathSpec } from '../kernel/request.js';
import { destinationTypeError, type AwsSmInput } from './destinations.js';
import { syncErrors } from './errors.js';
import { mergePatchInput } from './merge-patch.js';
import { planStep } from './plans.js';
import type { SyncService } from './service.js';
import { destinationResponse, destinationView } from './views.js';

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
const deleteFields = { purge: vBool(), force_delete: vBool(), dry_run: vBool() };

const REFUSED = 'Refuses a destination type Ferry does not sync to (a 400 naming the supported types).';
/** Answers a destination path of a type Ferry does not sync to, as the aws-sm handlers did for any type. */
const refuseType = async (req: LogicalRequest<unknown, { type: string }>): Promise<never> => {
  throw destinationTypeError(req.params.type);
};

/**
 * `sys/sync/destinations`, `sys/sync/destinations/:type` and `sys/sync/destinations/aws-sm/:name`.
 * The type is a literal segment of the destination path, as in Vault (one path per type); the
 * `:type/:name` catch-all after it answers the other types with the same 400 as before.
 */
export function destinationPaths(sync: SyncService): PathSpec[] {
  return [
    definePath({
      pattern: 'sync/destinations',
      operations: (op) => ({
        list: op({
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
      }),
    }),
    definePath({
      pattern: 'sync/destinations/:type',
      params: { type: param.segment() },
      operations: (op) => ({
        list: op({
          summary: 'Lists the destinations of one type.',
          operationId: 'system-list-sync-destinations-type',
          handler: async (req) => {
            const { type } = req.params;
            const names = (await sync.listDestinations(type))[type] ?? [];
            if (names.length === 0) throw syncErrors.nothingListed();
            return { data: { keys: names, total_destinations: names.length } };
          },
        }),
      }),
    }),
    definePath({
      pattern: 'sync/destinations/aws-sm/:name',
      params: { name: param.segment() },
      exists: async (req) => (await sync.getDestination('aws-sm', req.params.name)) !== undefined,
      operations: (op) => ({
        read: op({
          summary: 'Reads a destination, with its credentials masked.',
          operationId: 'system-read-sync-destinations-aws-sm-name',
          response: destinationResponse,
          handler: async (req) => {
            const d = await sync.getDestination('aws-sm', req.params.name);
            if (!d) throw syncErrors.destinationAbsent();
            return { data: destinationView(d) };
          },
        }),
        write: op({
          summary: 'Creates a destination, or updates the fields given of an existing one.',
          operationId: 'system-write-sync-destinations-aws-sm-name',
          fields: awsSmFields,
          response: destinationResponse,
          handler: async (req) => {
            const d = await sync.writeDestination('aws-sm', req.params.name, req.data as AwsSmInput, [], 'write', { token: req.token, path: req.path });
            return { data: destinationView(d) };
          },
        }),
        patch: op({
          summary: 'Updates a destination with a JSON merge patch.',
          operationId: 'system-patch-sync-destinations-aws-sm-name',
          fields: awsSmFields,
          response: destinationResponse,
          handler: async (req) => {
            const { input, nulls } = mergePatchInput(req.raw, req.data as AwsSmInput);
            const d = await sync.writeDestination('aws-sm', req.params.name, input, nulls, 'patch', { token: req.token, path: req.path });
            return { data: destinationView(d) };
          },
        }),
        delete: op({
          summary: 'Deletes a destination; purge=true unsyncs every associated secret first (dry_run=true: the plan, nothing changed).',
          operationId: 'system-delete-sync-destinations-aws-sm-name',
          fields: deleteFields,
          response: z.object({ plan: z.array(planStep) }),
          handler: async (req) => {
            const opts = { purge: req.data.purge === true, force: req.data.force_delete === true };
            if (req.data.dry_run === true) return { data: { plan: await sync.planDeleteDestination('aws-sm', req.params.name, opts) } };
            await sync.deleteDestination('aws-sm', req.params.name, opts);
          },
        }),
      }),
    }),
    definePath({
      pattern: 'sync/destinations/:type/:name',
      params: { type: param.segment(), name: param.segment() },
      // POST/PUT ask `exists` first, which refuses before any field is read. PATCH and DELETE
      // keep the aws-sm fields, so that bad input is refused in the same order as on aws-sm.
      exists: refuseType,
      operations: (op) => ({
        read: op({ summary: REFUSED, operationId: 'system-read-sync-destinations-type-name', handler: refuseType }),
        write: op({ summary: REFUSED, operationId: 'system-write-sync-destinations-type-name', handler: refuseType }),
        patch: op({ summary: REFUSED, operationId: 'system-patch-sync-destinations-type-name', fields: awsSmFields, handler: refuseType }),
        delete: op({ summary: REFUSED, operationId: 'system-delete-sync-destinations-type-name', fields: deleteFields, handler: refuseType }),
      }),
    }),
  ];
}
