import { vDuration, vString } from '../../kernel/fields.js';
import { definePath } from '../../kernel/request.js';
import { tokenByAccessor } from './caller.js';
import type { TokenDeps } from './deps.js';
import { renewToken } from './renewal.js';

/** `auth/token/renew-accessor`: a token by its accessor. */
export const renewAccessorPath = (deps: Pick<TokenDeps, 'tokens' | 'clock' | 'leaseTtls' | 'loginRenewal'>) =>
  definePath({
    pattern: 'renew-accessor',
    operations: (op) => ({
      write: op({
        summary: 'Renews a token by its accessor.',
        operationId: 'token-renew-accessor',
        fields: { accessor: vString(), increment: vDuration() },
        handler: async (req) => {
          const res = await renewToken(deps, await tokenByAccessor(deps, req.data.accessor), '', req.data.increment ?? 0);
          // Renewing by accessor must not reveal the token.
          return { ...res, auth: { ...res.auth, client_token: '' } };
        },
      }),
    }),
  });
