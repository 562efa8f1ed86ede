import { definePath } from '../../kernel/request.js';
import type { TokenDeps } from './deps.js';
import { createTokenOperation } from './path-create.js';

/** `auth/token/create-orphan`: a token without a parent. */
export const createOrphanPath = (deps: TokenDeps) =>
  definePath({ pattern: 'create-orphan', operations: (op) => ({ write: createTokenOperation(op, deps, true) }) });
