import { z } from 'zod';
import type { Backend, OperationKey, PathSpec } from '../kernel/request.js';

/** A backend as it appears in the API document: mounted at a path, possibly a template. */
export interface DocumentedBackend {
  /** e.g. `sys/`, `auth/token/`, `{kv_v2_mount_path}/` */
  prefix: string;
  backend: Backend;
  tag: string;
}

const toSchema = (schema: z.ZodType): Record<string, unknown> => {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
};

function openApiPath(prefix: string, pattern: string): { path: string; params: string[] } {
  const params: string[] = [];
  const segments = pattern === '' ? [] : pattern.split('/');
  const out = segments.map((seg) => {
    if (!seg.startsWith(':')) return seg;
    const name = seg.replace(/^:/, '').replace(/[+*]$/, '');
    params.push(name);
    return `{${name}}`;
  });
  const template = prefix.match(/\{([^}]+)\}/);
  if (template) params.unshift(template[1]!);
  return { path: `/${prefix}${out.join('/')}`.replace(/\/$/, '') || '/', params };
}

const envelope = (data: Record<string, unknown>) => ({
  type: 'object',
  properties: {
    request_id: { type: 'string' },
    lease_id: { type: 'string' },
    renewable: { type: 'boolean' },
    lease_duration: { type: 'integer' },
    data,
    wrap_info: { type: ['object', 'null'] },
    warnings: { type: ['array', 'null'], items: { type: 'string' } },
    auth: { type: ['object', 'null'] },
    mount_type: { type: 'string' },
  },
});

const METHOD: Record<OperationKey, string> = { read: 'get', list: 'get', write: 'post', patch: 'patch', delete: 'delete' };

/**
 * Generates the OpenAPI 3.1 document from the route declarations: the same data the
 * request pipeline routes by, so the document cannot drift from the code. `npm run openapi`
 * writes it to `openapi/openapi.json`; CI fails when the committed copy is stale.
 */
export function buildOpenApi(backends: DocumentedBackend[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { prefix, backend, tag } of backends) {
    for (const spec of backend.paths) {
      for (const [key, op] of Object.entries(spec.operations) as Array<[OperationKey, NonNullable<PathSpec['operations'][OperationKey]>]>) {
        const base = openApiPath(prefix, spec.pattern);
        const path = key === 'list' ? `${base.path}/` : base.path;
        const item = (paths[path] ??= {});
        const fieldsSchema = toSchema(z.object(op.fields ?? {}));
        const parameters: unknown[] = base.params.map((name) => {
          const schema = spec.params?.[name];
          return { name, in: 'path', required: true, schema: schema ? toSchema(schema) : { type: 'string' } };
        });
        if (key === 'list') parameters.push({ name: 'list', in: 'query', required: true, schema: { type: 'string', enum: ['true'] } });
        const hasBody = key === 'write' || key === 'patch';
        if (!hasBody) {
          const props = (fieldsSchema.properties ?? {}) as Record<string, unknown>;
          for (const [name, schema] of Object.entries(props)) parameters.push({ name, in: 'query', schema });
        }
        const responseData = op.response ? toSchema(op.response) : { type: ['object', 'null'] };
        item[METHOD[key]] = {
          operationId: op.operationId,
          summary: op.summary,
          tags: [tag],
          ...(parameters.length > 0 ? { parameters } : {}),
          ...(hasBody
            ? {
                requestBody: {
                  content: {
                    [key === 'patch' ? 'application/merge-patch+json' : 'application/json']: { schema: fieldsSchema },
                  },
                },
              }
            : {}),
          ...(spec.unauthenticated ? { security: [] } : {}),
          responses: {
            '200': {
              description: 'OK',
              content: spec.textContentTypes
                ? Object.fromEntries(spec.textContentTypes.map((type) => [type, { schema: { type: type === 'application/json' ? 'object' : 'string' } }]))
                : { 'application/json': { schema: spec.raw ? responseData : envelope(responseData) } },
            },
            '204': { description: 'No content' },
          },
        };
      }
    }
  }
  const sorted = Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b)));
  return {
    openapi: '3.1.0',
    info: {
      title: 'Ferry',
      description: 'Vault-compatible HTTP API of Ferry: KV v2 and secrets sync to AWS Secrets Manager.',
      version,
      license: { name: 'MPL-2.0', identifier: 'MPL-2.0' },
    },
    servers: [{ url: '/v1' }],
    components: {
      securitySchemes: { vaultToken: { type: 'apiKey', in: 'header', name: 'X-Vault-Token' } },
    },
    security: [{ vaultToken: [] }],
    paths: Object.fromEntries(Object.entries(sorted).map(([p, v]) => [p.replace(/^\/v1/, ''), v])),
  };
}
