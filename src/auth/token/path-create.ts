import { vBool, vDuration, vInt, vKeyPairs, vString, vStrings } from '../../kernel/fields.js';
import { definePath, type LogicalResponse, type OperationBuilder } from '../../kernel/request.js';
import { caller, isPrivileged } from './caller.js';
import type { TokenDeps } from './deps.js';
import { tokenErrors } from './errors.js';
import { planToken } from './rules.js';
import { authBlock } from './views.js';

const createFields = {
  id: vString(),
  policies: vStrings(),
  meta: vKeyPairs(),
  no_parent: vBool(),
  no_default_policy: vBool(),
  ttl: vDuration(),
  explicit_max_ttl: vDuration(),
  period: vDuration(),
  display_name: vString(),
  num_uses: vInt(),
  renewable: vBool(),
  type: vString(),
  entity_alias: vString(),
};

/** Token creation under the calling token; shared with `auth/token/create-orphan`. */
export const createTokenOperation = (op: OperationBuilder<Record<string, never>>, deps: TokenDeps, orphanPath: boolean) =>
  op({
    summary: orphanPath ? 'Creates an orphan token (no parent).' : 'Creates a token as a child of the calling token.',
    operationId: orphanPath ? 'token-create-orphan' : 'token-create',
    fields: createFields,
    handler: async (req): Promise<LogicalResponse> => {
      const { token: parent } = caller(req);
      if (req.data.entity_alias) throw tokenErrors.entityAliasWithoutRole();
      const plan = planToken(parent, await isPrivileged(deps, req, parent), req.data, orphanPath, Math.floor(deps.clock() / 1000), deps.leaseTtls);
      const created = await deps.tokens.create({
        type: plan.type,
        id: plan.id,
        policies: plan.policies,
        parent: plan.orphan ? null : parent,
        ttl: plan.ttl,
        explicit_max_ttl: plan.explicit_max_ttl,
        period: plan.period,
        num_uses: plan.num_uses,
        renewable: plan.renewable,
        display_name: plan.display_name,
        meta: plan.meta,
        path: orphanPath ? 'auth/token/create-orphan' : 'auth/token/create',
      });
      return { data: null, auth: authBlock(created.id, created.entry, deps.clock()), warnings: plan.warnings };
    },
  });

/** `auth/token/create`: a token that is a child of the calling token (unless `no_parent`). */
export const createPath = (deps: TokenDeps) =>
  definePath({ pattern: 'create', operations: (op) => ({ write: createTokenOperation(op, deps, false) }) });
