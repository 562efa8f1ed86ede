/**
 * Input shapes of the Secrets Manager operations, declared as data from the service model, and
 * the validator that turns a JSON body into typed input the way AWS's front end does:
 * a wrong JSON type → `SerializationException`; a violated model constraint (required, length,
 * range, pattern, enum) → `ValidationException` with AWS's "N validation errors detected: …" text.
 */
import { AwsError } from '../errors.js';

export type Shape =
  | { kind: 'string'; min?: number; max?: number; pattern?: string; enum?: readonly string[]; sensitive?: boolean }
  | { kind: 'boolean' }
  | { kind: 'long'; min?: number; max?: number }
  | { kind: 'blob'; min?: number; max?: number; sensitive?: boolean }
  | { kind: 'list'; member: Shape; min?: number; max?: number }
  | { kind: 'structure'; members: Record<string, Shape>; required?: readonly string[] };

const str = (o: Omit<Extract<Shape, { kind: 'string' }>, 'kind'> = {}): Shape => ({ kind: 'string', ...o });
const bool: Shape = { kind: 'boolean' };
const long = (o: { min?: number; max?: number } = {}): Shape => ({ kind: 'long', ...o });
const list = (member: Shape, o: { min?: number; max?: number } = {}): Shape => ({ kind: 'list', member, ...o });
const struct = (members: Record<string, Shape>, required: readonly string[] = []): Extract<Shape, { kind: 'structure' }> => ({
  kind: 'structure',
  members,
  required,
});

const SecretId = str({ min: 1, max: 2048 });
// Length 32–64 is checked by the operations (InvalidParameterException, spec §2.1), not here.
const ClientRequestToken = str();
const SecretString = str({ min: 1, max: 65_536, sensitive: true });
const SecretBinary: Shape = { kind: 'blob', min: 1, max: 65_536, sensitive: true };
const TAG_PATTERN = '^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$';
const Tag = struct({ Key: str({ min: 1, max: 128, pattern: TAG_PATTERN }), Value: str({ min: 0, max: 256, pattern: TAG_PATTERN }) }, ['Key', 'Value']);
const Region = str({ min: 1, max: 128, pattern: '^([a-z]+-)+\\d+$' });
const ReplicaRegion = struct({ Region, KmsKeyId: str({ min: 0, max: 2048 }) });
export const FILTER_KEYS = ['description', 'name', 'tag-key', 'tag-value', 'primary-region', 'owning-service', 'all'] as const;
const Filter = struct({
  Key: str({ enum: FILTER_KEYS }),
  Values: list(str({ min: 1, max: 512, pattern: '^\\!?[a-zA-Z0-9 :_@\\/\\+\\=\\.\\-\\!]*$' }), { min: 1, max: 10 }),
});
const VersionId = str({ min: 32, max: 64 });
const VersionStage = str({ min: 1, max: 256 });

/** Input shape per implemented operation. */
export const INPUT_SHAPES = {
  CreateSecret: struct(
    {
      Name: str({ min: 1, max: 512 }),
      ClientRequestToken,
      Description: str({ max: 2048 }),
      KmsKeyId: str({ max: 2048 }),
      SecretBinary,
      SecretString,
      Tags: list(Tag),
      AddReplicaRegions: list(ReplicaRegion, { min: 1 }),
      ForceOverwriteReplicaSecret: bool,
      Type: str({ max: 256 }),
    },
    ['Name'],
  ),
  PutSecretValue: struct(
    {
      SecretId,
      ClientRequestToken,
      SecretBinary,
      SecretString,
      VersionStages: list(VersionStage, { min: 1, max: 20 }),
      RotationToken: str({ min: 36, max: 256, pattern: '^[a-zA-Z0-9\\-]+$', sensitive: true }),
    },
    ['SecretId'],
  ),
  UpdateSecret: struct(
    {
      SecretId,
      ClientRequestToken,
      Description: str({ max: 2048 }),
      KmsKeyId: str({ max: 2048 }),
      SecretBinary,
      SecretString,
      Type: str({ max: 256 }),
    },
    ['SecretId'],
  ),
  DescribeSecret: struct({ SecretId }, ['SecretId']),
  GetSecretValue: struct({ SecretId, VersionId, VersionStage }, ['SecretId']),
  DeleteSecret: struct({ SecretId, RecoveryWindowInDays: long(), ForceDeleteWithoutRecovery: bool }, ['SecretId']),
  RestoreSecret: struct({ SecretId }, ['SecretId']),
  TagResource: struct({ SecretId, Tags: list(Tag) }, ['SecretId', 'Tags']),
  UntagResource: struct({ SecretId, TagKeys: list(str({ min: 1, max: 128, pattern: TAG_PATTERN })) }, ['SecretId', 'TagKeys']),
  ListSecrets: struct({
    IncludePlannedDeletion: bool,
    MaxResults: long({ min: 1, max: 100 }),
    NextToken: str({ min: 1, max: 4096 }),
    Filters: list(Filter, { max: 10 }),
    SortOrder: str({ enum: ['asc', 'desc'] }),
    SortBy: str({ enum: ['created-date', 'last-accessed-date', 'last-changed-date', 'name'] }),
  }),
  BatchGetSecretValue: struct({
    SecretIdList: list(SecretId, { min: 1, max: 20 }),
    Filters: list(Filter, { max: 10 }),
    MaxResults: long({ min: 1, max: 20 }),
    NextToken: str({ min: 1, max: 4096 }),
  }),
  ListSecretVersionIds: struct(
    { SecretId, MaxResults: long({ min: 1, max: 100 }), NextToken: str({ min: 1, max: 4096 }), IncludeDeprecated: bool },
    ['SecretId'],
  ),
  UpdateSecretVersionStage: struct(
    { SecretId, VersionStage, RemoveFromVersionId: VersionId, MoveToVersionId: VersionId },
    ['SecretId', 'VersionStage'],
  ),
  ReplicateSecretToRegions: struct(
    { SecretId, AddReplicaRegions: list(ReplicaRegion, { min: 1 }), ForceOverwriteReplicaSecret: bool },
    ['SecretId', 'AddReplicaRegions'],
  ),
  RemoveRegionsFromReplication: struct(
    { SecretId, RemoveReplicaRegions: list(Region, { min: 1 }) },
    ['SecretId', 'RemoveReplicaRegions'],
  ),
} as const;

export type OperationName = keyof typeof INPUT_SHAPES;

/** Real Secrets Manager operations this emulator does not implement (answered 501, fails fast). */
export const UNIMPLEMENTED_OPERATIONS = new Set([
  'CancelRotateSecret',
  'DeleteResourcePolicy',
  'GetRandomPassword',
  'GetResourcePolicy',
  'PutResourcePolicy',
  'RotateSecret',
  'StopReplicationToReplica',
  'ValidateResourcePolicy',
]);

const compiled = new Map<string, RegExp>();
/** Model patterns use \p{…} classes (needing the u flag) or identity escapes like \! (forbidden with it). */
function compile(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (re === undefined) {
    re = new RegExp(pattern, pattern.includes('\\p{') ? 'u' : '');
    compiled.set(pattern, re);
  }
  return re;
}

function memberPath(parent: string, member: string): string {
  const lower = member.charAt(0).toLowerCase() + member.slice(1);
  return parent === '' ? lower : `${parent}.${lower}`;
}

function show(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => show(v)).join(', ')}]`;
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function serializationError(path: string, expected: string): AwsError {
  return new AwsError('SerializationException', `Expected ${expected} at '${path || 'input'}'`);
}

function check(shape: Shape, value: unknown, path: string, violations: string[]): unknown {
  const fail = (constraint: string, sensitive = false) =>
    violations.push(
      sensitive
        ? `Value at '${path}' failed to satisfy constraint: ${constraint}`
        : `Value '${show(value)}' at '${path}' failed to satisfy constraint: ${constraint}`,
    );
  switch (shape.kind) {
    case 'string': {
      if (typeof value !== 'string') throw serializationError(path, 'a string');
      const s = shape.sensitive === true;
      if (shape.min !== undefined && value.length < shape.min) fail(`Member must have length greater than or equal to ${shape.min}`, s);
      if (shape.max !== undefined && value.length > shape.max) fail(`Member must have length less than or equal to ${shape.max}`, s);
      if (shape.pattern !== undefined && !compile(shape.pattern).test(value)) {
        fail(`Member must satisfy regular expression pattern: ${shape.pattern}`, s);
      }
      if (shape.enum !== undefined && !shape.enum.includes(value)) fail(`Member must satisfy enum value set: [${shape.enum.join(', ')}]`);
      return value;
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw serializationError(path, 'a boolean');
      return value;
    case 'long':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw serializationError(path, 'an integer');
      if (shape.min !== undefined && value < shape.min) fail(`Member must have value greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && value > shape.max) fail(`Member must have value less than or equal to ${shape.max}`);
      return value;
    case 'blob': {
      if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 === 1) {
        throw serializationError(path, 'a base64-encoded blob');
      }
      const bytes = Buffer.from(value, 'base64');
      if (shape.min !== undefined && bytes.length < shape.min) fail(`Member must have length greater than or equal to ${shape.min}`, true);
      if (shape.max !== undefined && bytes.length > shape.max) fail(`Member must have length less than or equal to ${shape.max}`, true);
      return bytes;
    }
    case 'list': {
      if (!Array.isArray(value)) throw serializationError(path, 'a list');
      if (shape.min !== undefined && value.length < shape.min) fail(`Member must have length greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && value.length > shape.max) fail(`Member must have length less than or equal to ${shape.max}`);
      return value.map((item, i) => {
        if (item === null) throw serializationError(`${path}.${i + 1}.member`, 'a list member');
        return check(shape.member, item, `${path}.${i + 1}.member`, violations);
      });
    }
    case 'structure': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw serializationError(path, 'an object');
      const input = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [name, member] of Object.entries(shape.members)) {
        const v = input[name];
        // JSON null is "absent", as in AWS's JSON protocol; unknown members are ignored.
        if (v === undefined || v === null) {
          if (shape.required?.includes(name)) {
            violations.push(`Value null at '${memberPath(path, name)}' failed to satisfy constraint: Member must not be null`);
          }
          continue;
        }
        out[name] = check(member, v, memberPath(path, name), violations);
      }
      return out;
    }
  }
}

/** Validates `body` against an operation's input shape; throws the AWS error on failure. */
export function validateInput(shape: Shape, body: unknown): Record<string, unknown> {
  const violations: string[] = [];
  const out = check(shape, body, '', violations) as Record<string, unknown>;
  if (violations.length > 0) {
    const n = violations.length;
    throw new AwsError('ValidationException', `${n} validation error${n > 1 ? 's' : ''} detected: ${violations.join('; ')}`);
  }
  return out;
}
