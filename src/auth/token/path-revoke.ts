import { vString } from '../../kernel/fields.js';
import { definePath } from '../../kernel/request.js';
import type { TokenDeps } from './deps.js';
import { tokenErrors } from './errors.js';

/** `auth/token/revoke`: a token given in the body. */
export const revokePath = (deps: Pick<TokenDeps, 'tokens'>) =>
  definePath({
    pattern: 'revoke',
    operations: (op) => ({
      write: op({
        summary: 'Revokes a token and every token created under it.',
        operationId: 'token-revoke',
        fields: { token: vString() },
        handler: async (req) => {
          if (!req.data.token) throw tokenErrors.missingToken();
          // Revoking an unknown token succeeds: the CLI prints "Revoked token (if it existed)".
          const entry = await deps.tokens.lookup(req.data.token);
          if (entry?.type === 'batch') throw tokenErrors.batchNotRevocable();
          if (entry) await deps.tokens.revokeTree(entry.hash);
        },
      }),
    }),
  });
