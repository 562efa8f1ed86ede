import { definePath, everyOperation, param, type PathSpec } from '../kernel/request.js';
import { kvErrors } from './errors.js';

/**
 * Every path of a KV mount while it is upgraded from version 1 to 2 (`upgrade.ts`): Vault's
 * 400 saying the backend will be back shortly. A catch-all, named after what it answers.
 */
export function upgradingPaths(): PathSpec {
  return definePath({
    pattern: ':path*',
    params: { path: param.optionalRest() },
    description: 'Any path of a KV mount being upgraded from version 1 to 2.',
    takesArbitraryInput: true,
    operations: (op) =>
      everyOperation(op, 'Answers 400 until the upgrade to KV version 2 is done.', 'kv-upgrading', async () => {
        throw kvErrors.upgrading();
      }),
  });
}
