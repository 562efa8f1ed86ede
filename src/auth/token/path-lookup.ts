import { vString } from '../../kernel/fields.js';
import { definePath } from '../../kernel/request.js';
import type { TokenDeps } from './deps.js';
import { tokenErrors } from './errors.js';
import { tokenLookupData, tokenLookupResponse } from './views.js';

/** `auth/token/lookup`: a token given in the body (the calling one when absent). */
export const lookupPath = (deps: Pick<TokenDeps, 'tokens' | 'clock'>) =>
  definePath({
    pattern: 'lookup',
    operations: (op) => ({
      write: op({
        summary: 'Looks up a token.',
        operationId: 'token-look-up',
        fields: { token: vString() },
        response: tokenLookupResponse,
        handler: async (req) => {
          const id = req.data.token ?? req.clientToken;
          if (!id) throw tokenErrors.missingLookupToken();
          const entry = await deps.tokens.lookup(id);
          if (!entry) throw tokenErrors.badToken();
          return { data: tokenLookupData(entry, id, deps.clock()) };
        },
      }),
    }),
  });
