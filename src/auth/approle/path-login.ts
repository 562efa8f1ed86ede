import { z } from 'zod';
import { vString } from '../../kernel/fields.js';
import { definePath } from '../../kernel/request.js';
import type { AuthMethodDeps } from '../login/deps.js';
import { approleLogin } from './login.js';

/** `login` (unauthenticated): a login with a role ID and a secret ID. */
export const loginPath = (deps: AuthMethodDeps) =>
  definePath({
    pattern: 'login',
    unauthenticated: true,
    operations: (op) => ({
      write: op({
        summary: 'Logs in with a role ID and a secret ID.',
        operationId: 'app-role-login',
        fields: { role_id: vString(), secret_id: vString() },
        response: z.null(),
        handler: async (req) => approleLogin(deps, req, req.data),
      }),
    }),
  });
