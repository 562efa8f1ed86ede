import { z } from 'zod';
import { vBool, vDuration, vKeyPairs, vString, vStrings, vInts } from '../kernel/fields.js';
import { defineOperation, type LogicalRequest, type PathSpec } from '../kernel/request.js';
import { destinationTypeError, type AwsSmInput } from './destinations.js';
import { syncErrors } from './errors.js';
import { mergePatchInput } from './merge-patch.js';
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
const deleteFields = { purge: vBool(), force_delete: vBool() };

const typeParams = z.object({ type: z.string() });
const awsSmParams = z.object({ name: z.string() });
const anyTypeParams = z.object({ type: z.string(), name: z.string() });

const REFUSED = 'Refuses a destination type Ferry does not sync to (a 400 naming the supported types).';
/** Answers a destination path of a type Ferry does not sync to, as the aws-sm handlers did for any type. */
const refuseType = async (req: LogicalRequest): Promise<never> => {
  throw destinationTypeError(anyTypeParams.parse(req.params).type);
};

/**
 * `sys/sync/destinations`, `sys/sync/destinations/:type` and `sys/sync/destinations/aws-sm/:name`.
 * The type is a literal segment of the destination path, as in Vault (one path per type); the
 * `:type/:name` catch-all after it answers the other types with the same 400 as before.
 */
export function destinationPaths(sync: SyncService): PathSpec[] {
  return [
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
            const { type } = typeParams.parse(req.params);
            const names = (await sync.listDestinations(type))[type] ?? [];
            if (names.length === 0) throw syncErrors.nothingListed();
            return { data: { keys: names, total_destinations: names.length } };
          },
        }),
      },
    },
    {
      pattern: 'sync/destinations/aws-sm/:name',
      exists: async (req) => (await sync.getDestination('aws-sm', awsSmParams.parse(req.params).name)) !== undefined,
      operations: {
        read: defineOperation({
          summary: 'Reads a destination, with its credentials masked.',
          operationId: 'system-read-sync-destinations-aws-sm-name',
          response: destinationResponse,
          handler: async (req) => {
            const d = await sync.getDestination('aws-sm', awsSmParams.parse(req.params).name);
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
            const d = await sync.writeDestination('aws-sm', awsSmParams.parse(req.params).name, req.data as AwsSmInput, [], 'write');
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
            const d = await sync.writeDestination('aws-sm', awsSmParams.parse(req.params).name, input, nulls, 'patch');
            return { data: destinationView(d) };
          },
        }),
        delete: defineOperation({
          summary: 'Deletes a destination; purge=true unsyncs every associated secret first.',
          operationId: 'system-delete-sync-destinations-aws-sm-name',
          fields: deleteFields,
          handler: async (req) => {
            await sync.deleteDestination('aws-sm', awsSmParams.parse(req.params).name, {
              purge: req.data.purge === true,
              force: req.data.force_delete === true,
            });
          },
        }),
      },
    },
    {
      pattern: 'sync/destinations/:type/:name',
      // POST/PUT ask `exists` first, which refuses before any field is read. PATCH and DELETE
      // keep the aws-sm fields, so that bad input is refused in the same order as on aws-sm.
      exists: refuseType,
      operations: {
        read: defineOperation({ summary: REFUSED, operationId: 'system-read-sync-destinations-type-name', handler: refuseType }),
        write: defineOperation({ summary: REFUSED, operationId: 'system-write-sync-destinations-type-name', handler: refuseType }),
        patch: defineOperation({ summary: REFUSED, operationId: 'system-patch-sync-destinations-type-name', fields: awsSmFields, handler: refuseType }),
        delete: defineOperation({ summary: REFUSED, operationId: 'system-delete-sync-destinations-type-name', fields: deleteFields, handler: refuseType }),
      },
    },
  ];
}
