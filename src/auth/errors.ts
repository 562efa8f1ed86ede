import { defineError } from '../kernel/errors.js';

/** ACL policy errors, as Vault words them. */
export const policyErrors = {
  /** Any syntax or rule error in a policy's text; `reason` names the line or the path block. */
  parse: defineError('policy.parse_failed', 'invalid', (reason: string) => `failed to parse policy: ${reason}`),
  nameRequired: defineError('policy.name_required', 'invalid', () => 'policy name must be provided'),
  rootImmutable: defineError('policy.root_immutable', 'invalid', () => 'cannot update "root" policy'),
  undeletable: defineError('policy.undeletable', 'invalid', (name: string) => `cannot delete "${name}" policy`),
};
