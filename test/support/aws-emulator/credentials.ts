/**
 * Who may sign requests: long-term `AKIA…` keys (any well-formed one belongs to the default
 * account unless mapped, and a mapped one must sign with its mapped secret) and the `ASIA…`
 * session credentials this emulator's STS issued (checked for token pairing and expiry).
 */
import { randomBytes, createHash } from 'node:crypto';

/** Session credentials minted by AssumeRole / AssumeRoleWithWebIdentity. */
export interface IssuedSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** ms epoch on the emulator clock. */
  expiration: number;
  accountId: string;
  roleArn: string;
  assumedRoleArn: string;
  assumedRoleId: string;
}

export interface LongTermKey {
  /** Unknown for a user's key registered without one: only the signature's shape is checked. */
  secretAccessKey?: string;
  accountId: string;
  /** The registered IAM user owning the key; without one the key acts as `user/<key id>`, unrestricted. */
  user?: { arn: string; userId: string };
}

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** Random string over `alphabet` (rejection-free modulo bias is irrelevant for an emulator). */
export function randomChars(length: number, alphabet = UPPER_ALNUM): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[bytes[i] % alphabet.length];
  return out;
}

export const LONG_TERM_KEY = /^AKIA[A-Z0-9]{16}$/;

export function checkAccessKeyId(accessKeyId: string): void {
  if (!LONG_TERM_KEY.test(accessKeyId)) {
    throw new Error(`access key id must match ${LONG_TERM_KEY} (AKIA + 16 upper-case letters/digits)`);
  }
}

export class CredentialStore {
  private readonly longTerm = new Map<string, LongTermKey>();
  private readonly sessions = new Map<string, IssuedSession>();

  constructor(readonly defaultAccountId: string) {}

  /** Maps (or re-maps) a long-term key; the last mapping of a key id wins. */
  mapAccessKey(accessKeyId: string, secretAccessKey: string | undefined, accountId: string, user?: LongTermKey['user']): void {
    checkAccessKeyId(accessKeyId);
    if (!/^\d{12}$/.test(accountId)) throw new Error('accountId must be 12 digits');
    this.longTerm.set(accessKeyId, {
      accountId,
      ...(secretAccessKey !== undefined ? { secretAccessKey } : {}),
      ...(user !== undefined ? { user } : {}),
    });
  }

  mappedKey(accessKeyId: string): LongTermKey | undefined {
    return this.longTerm.get(accessKeyId);
  }

  session(accessKeyId: string): IssuedSession | undefined {
    return this.sessions.get(accessKeyId);
  }

  issue(args: Omit<IssuedSession, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>): IssuedSession {
    const session: IssuedSession = {
      ...args,
      accessKeyId: `ASIA${randomChars(16)}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      // Opaque and deliberately long: clients must not assume a maximum length.
      sessionToken: `FwoGZXIvYXdzEMU${randomBytes(240).toString('base64')}`,
    };
    this.sessions.set(session.accessKeyId, session);
    return session;
  }
}

/** A stable pseudo unique id (`AIDA…`, `AROA…`) for a principal name. */
export function principalId(prefix: string, name: string): string {
  const digest = createHash('sha256').update(name).digest();
  let out = prefix;
  for (let i = 0; i < 17; i++) out += UPPER_ALNUM[digest[i] % UPPER_ALNUM.length];
  return out;
}
