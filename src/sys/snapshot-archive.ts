/**
 * The snapshot file: what `vault operator raft snapshot save` expects (hashicorp/raft-snapshot's
 * layout) — a gzip-compressed tar whose members are checksummed in `SHA256SUMS`, with the same
 * text sealed in `SHA256SUMS.sealed` last — holding Ferry's own store copy instead of a raft
 * FSM. Tar is written and read here (plain ustar, regular files only): the format is small and
 * a reader that refuses anything unexpected is easier to trust than a general one.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';

export const META_FILE = 'meta.json';
export const STORE_FILE = 'ferry.db';
export const SUMS_FILE = 'SHA256SUMS';
export const SEALED_SUMS_FILE = 'SHA256SUMS.sealed';
const KNOWN = new Set([META_FILE, STORE_FILE, SUMS_FILE, SEALED_SUMS_FILE]);
/** raft-snapshot reads its small members with this limit. */
const SMALL_LIMIT = 8192;
const BLOCK = 512;

/** A snapshot that cannot be restored; its message says why (answered as a 400). */
export class SnapshotFormatError extends Error {}

export type Member = { name: string } & ({ file: string } | { data: Buffer });

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(0o600, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(size, 12), 124);
  h.write(octal(Math.floor(mtime / 1000), 12), 136);
  h.write(' '.repeat(8), 148);
  h.write('0', 156);
  h.write('ustar\u000000', 257);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

const padding = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

/** Writes `members` as a gzip-compressed tar to `target`, in the order given. */
export async function writeArchive(target: string, members: Member[], now: number): Promise<void> {
  async function* tar(): AsyncGenerator<Buffer> {
    for (const m of members) {
      const size = 'data' in m ? m.data.length : (await stat(m.file)).size;
      yield header(m.name, size, now);
      if ('data' in m) yield m.data;
      else yield* createReadStream(m.file) as AsyncIterable<Buffer>;
      yield padding(size);
    }
    yield Buffer.alloc(BLOCK * 2);
  }
  await pipeline(tar(), createGzip(), createWriteStream(target, { mode: 0o600 }));
}

/** SHA-256 of a member, hex. */
export async function sha256Of(m: Member): Promise<string> {
  const hash = createHash('sha256');
  if ('data' in m) hash.update(m.data);
  else for await (const chunk of createReadStream(m.file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** `SHA256SUMS` as raft-snapshot writes it: `<hex>  <name>` lines. */
export function sumsText(sums: Map<string, string>): string {
  return [...sums].map(([name, hex]) => `${hex}  ${name}\n`).join('');
}

function parseSums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = /^([0-9a-f]{64}) {2}(\S+)$/.exec(line);
    if (!m) throw new SnapshotFormatError('failed checking integrity of snapshot: malformed SHA256SUMS line');
    sums.set(m[2]!, m[1]!);
  }
  return sums;
}

export interface ReadArchive {
  /** Positions of the members in the uncompressed tar file. */
  members: Map<string, { offset: number; size: number }>;
  small: Map<string, Buffer>;
  tarFile: string;
}

/** Decompresses `gzFile` into `tarFile` and lists its members; refuses anything but the snapshot's own. */
export async function readArchive(gzFile: string, tarFile: string): Promise<ReadArchive> {
  try {
    await pipeline(createReadStream(gzFile), createGunzip(), createWriteStream(tarFile, { mode: 0o600 }));
  } catch (err) {
    throw new SnapshotFormatError(`failed to decompress snapshot: ${(err as Error).message}`);
  }
  const fh = await open(tarFile, 'r');
  try {
    const { size: total } = await fh.stat();
    const members = new Map<string, { offset: number; size: number }>();
    const small = new Map<string, Buffer>();
    const h = Buffer.alloc(BLOCK);
    for (let at = 0; ; ) {
      if (at + BLOCK > total) throw new SnapshotFormatError('failed to read snapshot file: unexpected end of archive');
      await fh.read(h, 0, BLOCK, at);
      if (h.every((b) => b === 0)) break;
      let sum = 0;
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
      const field = (from: number, len: number) => h.subarray(from, from + len).toString('utf8').replace(/\0[\s\S]*$/, '');
      if (Number.parseInt(field(148, 8).trim(), 8) !== sum || !field(257, 6).startsWith('ustar')) {
        throw new SnapshotFormatError('failed to read snapshot file: not a tar archive');
      }
      const prefix = field(345, 155);
      const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
      const type = field(156, 1);
      const size = Number.parseInt(field(124, 12).trim() || '0', 8);
      if ((type !== '0' && type !== '') || !KNOWN.has(name) || !Number.isSafeInteger(size)) {
        throw new SnapshotFormatError(`unexpected file ${JSON.stringify(name)} in snapshot`);
      }
      if (members.has(name)) throw new SnapshotFormatError(`file ${JSON.stringify(name)} appears twice in snapshot`);
      const offset = at + BLOCK;
      if (offset + size > total) throw new SnapshotFormatError('failed to read snapshot file: unexpected end of archive');
      members.set(name, { offset, size });
      if (name !== STORE_FILE) {
        if (size > SMALL_LIMIT) throw new SnapshotFormatError(`read max specified bytes (${SMALL_LIMIT}) without EOF - possible truncation`);
        const data = Buffer.alloc(size);
        await fh.read(data, 0, size, offset);
        small.set(name, data);
      }
      at = offset + size + padding(size).length;
    }
    return { members, small, tarFile };
  } finally {
    await fh.close();
  }
}

/** Copies one member of a read archive out to its own file. */
export async function extractMember(archive: ReadArchive, name: string, target: string): Promise<void> {
  const m = archive.members.get(name);
  if (!m) throw new SnapshotFormatError(`file missing for ${JSON.stringify(name)}`);
  const source = m.size === 0 ? [] : createReadStream(archive.tarFile, { start: m.offset, end: m.offset + m.size - 1 });
  await pipeline(source, createWriteStream(target, { mode: 0o600 }));
}

/** raft-snapshot's integrity check: every member listed in `SHA256SUMS` with its hash, and every listed member present. */
export async function verifySums(archive: ReadArchive, extractedStore: string): Promise<Buffer> {
  const text = archive.small.get(SUMS_FILE);
  if (!text) throw new SnapshotFormatError(`failed checking integrity of snapshot: file missing for "${SUMS_FILE}"`);
  const sums = parseSums(text.toString('utf8'));
  for (const name of [META_FILE, STORE_FILE]) {
    if (!archive.members.has(name)) throw new SnapshotFormatError(`failed checking integrity of snapshot: file missing for ${JSON.stringify(name)}`);
    const expected = sums.get(name);
    if (!expected) throw new SnapshotFormatError(`failed checking integrity of snapshot: list missing hash for ${JSON.stringify(name)}`);
    const actual = await sha256Of(name === STORE_FILE ? { name, file: extractedStore } : { name, data: archive.small.get(name)! });
    if (actual !== expected) throw new SnapshotFormatError(`failed checking integrity of snapshot: hash check failed for ${JSON.stringify(name)}`);
  }
  for (const name of sums.keys()) {
    if (!archive.members.has(name)) throw new SnapshotFormatError(`failed checking integrity of snapshot: file missing for ${JSON.stringify(name)}`);
  }
  return text;
}
