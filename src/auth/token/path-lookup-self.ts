import { definePath } from '../../kernel/request.js';
import { caller } from './caller.js';
import type { TokenDeps } from './deps.js';
import { tokenLookupData, tokenLookupResponse } from './views.js';

/** `auth/token/lookup-self`: the calling token, by GET or POST (Vault gives each its own operationId). */
export const lookupSelfPath = (deps: Pick<TokenDeps, 'clock'>) =>
  definePath({
    pattern: 'lookup-self',
    operations: (op) => {
      const lookupSelf = op({
        summary: 'Looks up the calling token.',
        operationId: 'token-read-self',
        response: tokenLookupResponse,
        handler: async (req) => {
          const { token, id } = caller(req);
          return { data: tokenLookupData(token, id, deps.clock()) };
        },
      });
      return { read: lookupSelf, write: { ...lookupSelf, operationId: 'token-look-up-self' } };
    },
  });
