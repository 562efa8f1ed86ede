import { permissionDenied } from '../kernel/errors.js';
import { definePath } from '../kernel/request.js';
import { capabilitiesAnswer, capabilitiesResponse, capabilityFields } from './capabilities.js';
import type { SystemDeps } from './deps.js';

/** `sys/capabilities-self` (an injector path): the calling token's capabilities. */
export const capabilitiesSelfPath = (deps: Pick<SystemDeps, 'authorizer'>) =>
  definePath({
    pattern: 'capabilities-self',
    injector: true,
    operations: (op) => ({
      write: op({
        summary: "Returns the calling token's capabilities on the given paths.",
        operationId: 'query-token-self-capabilities',
        fields: capabilityFields,
        response: capabilitiesResponse,
        handler: async (req) => {
          if (!req.token) throw permissionDenied();
          return capabilitiesAnswer(deps.authorizer, req.token, req.data);
        },
      }),
    }),
  });
