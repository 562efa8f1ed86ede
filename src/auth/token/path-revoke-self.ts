import { definePath } from '../../kernel/request.js';
import { caller } from './caller.js';
import type { TokenDeps } from './deps.js';
import { tokenErrors } from './errors.js';

/** `auth/token/revoke-self`. */
export const revokeSelfPath = (deps: Pick<TokenDeps, 'tokens'>) =>
  definePath({
    pattern: 'revoke-self',
    operations: (op) => ({
      write: op({
        summary: 'Revokes the calling token and every token created under it.',
        operationId: 'token-revoke-self',
        handler: async (req) => {
          const { token } = caller(req);
          if (token.type === 'batch') throw tokenErrors.batchNotRevocable();
          await deps.tokens.revokeTree(token.hash);
        },
      }),
    }),
  });
