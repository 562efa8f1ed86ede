import { z } from 'zod';
import { vString } from '../../kernel/fields.js';
import { definePath } from '../../kernel/request.js';
import { tokenByAccessor } from './caller.js';
import type { TokenDeps } from './deps.js';
import { tokenLookupData } from './views.js';

/** `auth/token/lookup-accessor`: a token by its accessor; the token id is not revealed. */
export const lookupAccessorPath = (deps: Pick<TokenDeps, 'tokens' | 'clock'>) =>
  definePath({
    pattern: 'lookup-accessor',
    operations: (op) => ({
      write: op({
        summary: 'Looks up a token by its accessor (the token id is not revealed).',
        operationId: 'token-look-up-accessor',
        fields: { accessor: vString() },
        response: z.looseObject({ id: z.literal(''), accessor: z.string(), policies: z.array(z.string()) }),
        handler: async (req) => ({ data: tokenLookupData(await tokenByAccessor(deps, req.data.accessor), '', deps.clock()) }),
      }),
    }),
  });
