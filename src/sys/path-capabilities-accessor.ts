import { tokenErrors } from '../auth/token/errors.js';
import { vString } from '../kernel/fields.js';
import { definePath } from '../kernel/request.js';
import { capabilitiesAnswer, capabilitiesResponse, capabilityFields } from './capabilities.js';
import type { SystemDeps } from './deps.js';
import { sysErrors } from './errors.js';

/** `sys/capabilities-accessor` (an injector path): the capabilities of the token with an accessor. */
export const capabilitiesAccessorPath = (deps: Pick<SystemDeps, 'authorizer' | 'tokens'>) =>
  definePath({
    pattern: 'capabilities-accessor',
    injector: true,
    operations: (op) => ({
      write: op({
        summary: 'Returns the capabilities, on the given paths, of the token with this accessor.',
        operationId: 'query-token-accessor-capabilities',
        fields: { ...capabilityFields, accessor: vString() },
        response: capabilitiesResponse,
        handler: async (req) => {
          if (!req.data.accessor) throw sysErrors.accessorRequired();
          const token = await deps.tokens.lookupAccessor(req.data.accessor);
          if (!token) throw tokenErrors.invalidAccessor();
          return capabilitiesAnswer(deps.authorizer, token, req.data);
        },
      }),
    }),
  });
