import { notFound } from '../kernel/errors.js';
import { vInt } from '../kernel/fields.js';
import { definePath, param, type PathSpec } from '../kernel/request.js';
import type { KvV2Engine } from './engine.js';
import { kvErrors } from './errors.js';
import { goneResponse, invalidPathResponse, invalidPathWarning, subkeysSchema, versionMetadata } from './render.js';
import { subkeysOf } from './rules.js';

/** `<mount>/subkeys/<path>?version=N&depth=D`: a secret's structure without its values (kv-v2.md §6). */
export function subkeysPath(engine: KvV2Engine): PathSpec {
  return definePath({
    pattern: 'subkeys/:path+',
    params: { path: param.rest() },
    description: "Read the structure of a secret's data without its values.",
    operations: (op) => ({
      read: op({
        summary: 'Reads the keys of a version of a secret, with every value replaced by null.',
        operationId: 'kv-v2-read-subkeys',
        fields: { version: vInt(), depth: vInt() },
        response: subkeysSchema,
        handler: async (req) => {
          if (req.trailingSlash) return invalidPathResponse(req, invalidPathWarning(req.operation));
          const depth = req.data.depth ?? 0;
          if (depth < 0) throw kvErrors.negative('depth');
          const out = await engine.read(req.mount, req.params.path, req.data.version ?? 0);
          if (out.kind === 'missing') throw notFound();
          const metadata = versionMetadata(out.view);
          if (out.kind === 'gone') return goneResponse({ subkeys: null, metadata });
          return { data: { subkeys: subkeysOf(out.data, depth), metadata } };
        },
      }),
    }),
  });
}
