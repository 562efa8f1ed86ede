import { vString } from '../../kernel/fields.js';
import { definePath } from '../../kernel/request.js';
import type { TokenDeps } from './deps.js';
import { tokenErrors } from './errors.js';

/** `auth/token/revoke-accessor`: a token by its accessor. */
export const revokeAccessorPath = (deps: Pick<TokenDeps, 'tokens'>) =>
  definePath({
    pattern: 'revoke-accessor',
    operations: (op) => ({
      write: op({
        summary: 'Revokes a token by its accessor, with every token created under it.',
        operationId: 'token-revoke-accessor',
        fields: { accessor: vString() },
        handler: async (req) => {
          if (!req.data.accessor) throw tokenErrors.missingAccessor();
          const entry = await deps.tokens.lookupAccessor(req.data.accessor);
          if (entry) await deps.tokens.revokeTree(entry.hash);
        },
      }),
    }),
  });
