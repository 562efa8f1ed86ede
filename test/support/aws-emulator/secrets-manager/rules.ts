/** Parameter rules shared by several operations: values, tokens, tags. */
import type { OpContext } from './context.js';
import { smErrors } from './errors.js';
import type { SecretRecord, Tag } from './store.js';

const MAX_VALUE_BYTES = 65_536;
const MAX_USER_TAGS = 50;

export interface ValueInput {
  SecretString?: string;
  SecretBinary?: Buffer;
}

export function hasValue(input: ValueInput): boolean {
  return input.SecretString !== undefined || input.SecretBinary !== undefined;
}

/** Exactly one kind of value per version, at most 65,536 bytes. */
export function checkValue(input: ValueInput): void {
  if (input.SecretString !== undefined && input.SecretBinary !== undefined) throw smErrors.bothValues();
  if (input.SecretString !== undefined && Buffer.byteLength(input.SecretString, 'utf8') > MAX_VALUE_BYTES) {
    throw smErrors.valueTooLarge();
  }
}

/** A version-creating call needs a ClientRequestToken of 32–64 characters. */
export function requireToken(token: string | undefined): string {
  if (token === undefined) throw smErrors.tokenMissing();
  checkTokenLength(token);
  return token;
}

export function checkTokenLength(token: string): void {
  if (token.length < 32 || token.length > 64) throw smErrors.tokenLength();
}

/** `aws:` is reserved (in any case) for AWS's own tags. */
export function checkTagKeys(keys: string[]): void {
  for (const key of keys) if (key.toLowerCase().startsWith('aws:')) throw smErrors.reservedTagPrefix(key);
}

/** Merges `add` into `current` (new values overwrite), enforcing the 50-tag limit. */
export function mergeTags(current: Tag[], add: Tag[]): Tag[] {
  checkTagKeys(add.map((t) => t.Key));
  const merged = new Map(current.map((t) => [t.Key, t.Value]));
  for (const t of add) merged.set(t.Key, t.Value);
  if (merged.size > MAX_USER_TAGS) throw smErrors.tooManyTags();
  return [...merged].map(([Key, Value]) => ({ Key, Value }));
}

/** A write needs the secret to be a primary not scheduled for deletion. */
export function writable(ctx: OpContext, secretId: string): SecretRecord {
  const record = ctx.store.resolve(ctx, secretId);
  if (record.isReplica) throw smErrors.replicaReadOnly();
  if (record.deletedDate !== undefined) throw smErrors.markedForDeletion();
  return record;
}
