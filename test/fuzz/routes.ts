import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One operation of the OpenAPI document: a path template and a method. */
export interface FuzzRoute {
  /** `GET /sys/policies/acl/{name}`: stable, used to name tests and derive seeds. */
  key: string;
  template: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path parameters in template order (the mount placeholders included). */
  pathParams: string[];
  /** Query parameters the document declares (name → JSON schema). */
  query: Record<string, Schema>;
  /** Request body fields the document declares (name → JSON schema); undefined for no body. */
  body: Record<string, Schema> | undefined;
}

/** The slice of JSON Schema the generated document uses. */
export interface Schema {
  type?: string | string[];
  anyOf?: Schema[];
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  minLength?: number;
}

interface OpenApiOperation {
  parameters?: Array<{ name: string; in: 'path' | 'query'; schema: Schema }>;
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

/** Every operation of the committed OpenAPI document (CI checks that it matches the routes). */
export function loadRoutes(): FuzzRoute[] {
  const file = fileURLToPath(new URL('../../openapi/openapi.json', import.meta.url));
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { paths: Record<string, Record<string, OpenApiOperation>> };
  const routes: FuzzRoute[] = [];
  for (const [template, operations] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      const upper = method.toUpperCase() as FuzzRoute['method'];
      if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(upper)) continue;
      const params = op.parameters ?? [];
      const bodySchema = op.requestBody?.content?.['application/json']?.schema ?? op.requestBody?.content?.['application/merge-patch+json']?.schema;
      routes.push({
        key: `${upper} ${template}`,
        template,
        method: upper,
        pathParams: [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!),
        query: Object.fromEntries(params.filter((p) => p.in === 'query').map((p) => [p.name, p.schema])),
        body: bodySchema ? (bodySchema.properties ?? {}) : undefined,
      });
    }
  }
  return routes.sort((a, b) => a.key.localeCompare(b.key));
}
