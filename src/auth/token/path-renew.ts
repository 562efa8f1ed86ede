import { vDuration, vString } from '../../kernel/fields.js';
import { definePath } from '../../kernel/request.js';
import type { TokenDeps } from './deps.js';
import { tokenErrors } from './errors.js';
import { renewToken } from './renewal.js';

/** `auth/token/renew`: a token given in the body. */
export const renewPath = (deps: Pick<TokenDeps, 'tokens' | 'clock' | 'leaseTtls' | 'loginRenewal'>) =>
  definePath({
    pattern: 'renew',
    operations: (op) => ({
      write: op({
        summary: 'Renews a token.',
        operationId: 'token-renew',
        fields: { token: vString(), increment: vDuration() },
        handler: async (req) => {
          if (!req.data.token) throw tokenErrors.missingToken();
          const entry = await deps.tokens.lookup(req.data.token);
          if (!entry) throw tokenErrors.invalidToken();
          return renewToken(deps, entry, req.data.token, req.data.increment ?? 0);
        },
      }),
    }),
  });
