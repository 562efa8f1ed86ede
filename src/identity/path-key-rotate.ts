import { vDuration } from '../kernel/fields.js';
import { definePath } from '../kernel/request.js';
import { identityErrors } from './errors.js';
import { keyNameParam, type OidcKeyRing } from './oidc-keys.js';

/** `identity/oidc/key/:name/rotate`: the published next key starts signing now. */
export const keyRotatePath = (keys: OidcKeyRing) =>
  definePath({
    pattern: 'oidc/key/:name/rotate',
    params: { name: keyNameParam() },
    operations: (op) => ({
      write: op({
        summary: 'Rotates a named OIDC signing key now: the published next key starts signing.',
        operationId: 'oidc-rotate-key',
        fields: {
          verification_ttl: vDuration(),
        },
        handler: async (req) => {
          if (!(await keys.rotate(req.params.name, req.data.verification_ttl))) throw identityErrors.noSuchKey(req.params.name);
        },
      }),
    }),
  });
