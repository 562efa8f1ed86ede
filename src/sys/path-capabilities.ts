import { tokenErrors } from '../auth/token/errors.js';
import { vString } from '../kernel/fields.js';
import { definePath } from '../kernel/request.js';
import { capabilitiesAnswer, capabilitiesResponse, capabilityFields } from './capabilities.js';
import type { SystemDeps } from './deps.js';
import { sysErrors } from './errors.js';

/** `sys/capabilities` (an injector path): a given token's capabilities. */
export const capabilitiesPath = (deps: Pick<SystemDeps, 'authorizer' | 'tokens'>) =>
  definePath({
    pattern: 'capabilities',
    injector: true,
    operations: (op) => ({
      write: op({
        summary: "Returns a token's capabilities on the given paths.",
        operationId: 'query-token-capabilities',
        fields: { ...capabilityFields, token: vString() },
        response: capabilitiesResponse,
        handler: async (req) => {
          if (!req.data.token) throw sysErrors.tokenRequired();
          const token = await deps.tokens.lookup(req.data.token);
          if (!token) throw tokenErrors.invalidToken();
          return capabilitiesAnswer(deps.authorizer, token, req.data);
        },
      }),
    }),
  });
