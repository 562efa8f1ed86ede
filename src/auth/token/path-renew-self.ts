import { vDuration } from '../../kernel/fields.js';
import { definePath } from '../../kernel/request.js';
import { caller } from './caller.js';
import type { TokenDeps } from './deps.js';
import { renewToken } from './renewal.js';

/** `auth/token/renew-self`. */
export const renewSelfPath = (deps: Pick<TokenDeps, 'tokens' | 'clock' | 'leaseTtls' | 'loginRenewal'>) =>
  definePath({
    pattern: 'renew-self',
    operations: (op) => ({
      write: op({
        summary: 'Renews the calling token.',
        operationId: 'token-renew-self',
        fields: { increment: vDuration() },
        handler: async (req) => {
          const { token, id } = caller(req);
          return renewToken(deps, token, id, req.data.increment ?? 0);
        },
      }),
    }),
  });
