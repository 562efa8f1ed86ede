import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Password hashing with Node's built-in scrypt (OpenSSL's, maintained with Node itself: no
 * native add-on to build or download). Parameters are OWASP's scrypt configuration of
 * N = 2^15, r = 8, p = 3 (32 MiB per hash); each stored hash carries its own parameters and
 * salt, so the cost can be raised later without invalidating the hashes already stored.
 *
 * Stored form: `scrypt$<N>$<r>$<p>$<salt, base64>$<hash, base64>`.
 */
const COST = { N: 2 ** 15, r: 8, p: 3 };
const KEY_BYTES = 32;
const SALT_BYTES = 16;

/**
 * Hashes running at once. scrypt runs on libuv's thread pool (4 threads unless UV_THREADPOOL_SIZE
 * says otherwise), which the audit file device's writes and the AWS SDK's DNS lookups share: a
 * flood of unauthenticated logins holding every thread stalled every audited request for as long
 * as the flood lasted. The other logins wait their turn here instead, off the pool.
 */
const MAX_CONCURRENT_HASHES = 2;
let hashing = 0;
const waitingForHash: Array<() => void> = [];

async function withHashSlot<T>(work: () => Promise<T>): Promise<T> {
  if (hashing < MAX_CONCURRENT_HASHES) hashing++;
  else await new Promise<void>((resolve) => waitingForHash.push(resolve));
  try {
    return await work();
  } finally {
    // The slot passes to the next waiter, if any.
    const next = waitingForHash.shift();
    if (next) next();
    else hashing--;
  }
}

function derive(password: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  // maxmem must cover 128·N·r bytes plus scrypt's own buffers.
  const maxmem = 256 * cost.N * cost.r;
  return withHashSlot(
    () =>
      new Promise((resolve, reject) =>
        scrypt(password, salt, KEY_BYTES, { ...cost, maxmem }, (err, key) => (err ? reject(err) : resolve(key))),
      ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, COST);
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await derive(password, Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash of nothing anyone knows, made once: an unknown user's login is checked against it so it costs what a known user's does. */
let dummy: Promise<string> | undefined;

/** Spends the cost of one verification and fails: the answer for a user that does not exist. */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'));
  await verifyPassword(password, await dummy);
  return false;
}
