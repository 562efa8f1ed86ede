import * as crypto from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';

/** Counts the scrypt calls running at once on libuv's thread pool. */
const pool = vi.hoisted(() => ({ running: 0, most: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof crypto>();
  const scrypt = (...args: unknown[]) => {
    const callback = args.pop() as (err: Error | null, key: Buffer) => void;
    pool.running++;
    pool.most = Math.max(pool.most, pool.running);
    (original.scrypt as (...a: unknown[]) => void)(...args, (err: Error | null, key: Buffer) => {
      pool.running--;
      callback(err, key);
    });
  };
  return { ...original, scrypt, default: { ...original, scrypt } };
});

const { hashPassword, verifyAgainstDummy, verifyPassword } = await import('../../src/auth/userpass/passwords.js');

describe('password hashing under a flood of logins', () => {
  it('runs at most two scrypt hashes at once, leaving libuv threads to the audit device and DNS; every answer stays right', async () => {
    const stored = await hashPassword('right');
    pool.most = 0;
    const attempts = Array.from({ length: 4 }, (_, i) =>
      i % 3 === 0 ? verifyPassword('right', stored) : i % 3 === 1 ? verifyPassword('wrong', stored) : verifyAgainstDummy('any'),
    );
    const answers = await Promise.all(attempts);
    expect(answers).toEqual(Array.from({ length: 4 }, (_, i) => i % 3 === 0));
    expect(pool.most).toBe(2);
    expect(pool.running).toBe(0);
  }, 120_000);
});
