import { z } from 'zod';
import { notFound } from '../../kernel/errors.js';
import { definePath } from '../../kernel/request.js';
import type { TokenDeps } from './deps.js';

/** `auth/token/accessors` (sudo): the accessor of every live token. */
export const accessorsPath = (deps: Pick<TokenDeps, 'tokens'>) =>
  definePath({
    pattern: 'accessors',
    sudo: true,
    operations: (op) => ({
      list: op({
        summary: 'Lists the accessors of every live token.',
        operationId: 'token-list-accessors',
        response: z.object({ keys: z.array(z.string()) }),
        handler: async () => {
          const keys = await deps.tokens.listAccessors();
          if (keys.length === 0) throw notFound();
          return { data: { keys } };
        },
      }),
    }),
  });
