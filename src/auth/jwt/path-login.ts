import { z } from 'zod';
import { vString } from '../../kernel/fields.js';
import { definePath } from '../../kernel/request.js';
import { jwtLogin, type JwtDeps } from './login.js';

/** `login` (unauthenticated): a login with a role and a JWT (a CI system's OIDC token). */
export const loginPath = (deps: JwtDeps) =>
  definePath({
    pattern: 'login',
    unauthenticated: true,
    operations: (op) => ({
      write: op({
        summary: 'Logs in with a signed JWT.',
        operationId: 'jwt-login',
        fields: { role: vString(), jwt: vString() },
        response: z.null(),
        handler: async (req) => jwtLogin(deps, req, req.data),
      }),
    }),
  });
