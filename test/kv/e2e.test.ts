import vault from 'node-vault';
import { describe, expect, it } from 'vitest';
import { perTest, useListeningServer } from '../support/fixtures.js';

/**
 * The common KV operations end to end over a real socket with node-vault, whose `list()`
 * sends the non-standard LIST verb (translated below Node's HTTP parser) and whose
 * `update()` sends PATCH with the merge-patch Content-Type.
 */
const server = useListeningServer();
const client = perTest('the node-vault client', async () => vault({ endpoint: server.listener.url, token: 'root' }), () => undefined);

/** node-vault rejects non-200/204 answers with the response attached. */
async function failure(p: Promise<unknown>): Promise<{ statusCode: number; body: any; message: string }> {
  const err = (await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  )) as { message: string; response: { statusCode: number; body: unknown } };
  return { statusCode: err.response.statusCode, body: err.response.body, message: err.message };
}

describe('KV v2 with node-vault over a real socket', () => {
  it('writes and reads a secret', async () => {
    const written = await client.write('secret/data/e2e/app', { data: { user: 'svc', port: 5432 } });
    expect(written.data).toMatchObject({ version: 1, destroyed: false, deletion_time: '', custom_metadata: null });
    const read = await client.read('secret/data/e2e/app');
    expect(read.data.data).toEqual({ user: 'svc', port: 5432 });
    expect(read.data.metadata.version).toBe(1);
    expect(read.mount_type).toBe('kv');
  });

  it('patches with PATCH and application/merge-patch+json', async () => {
    await client.write('secret/data/e2e/patched', { data: { a: '1', b: '2' } });
    const patched = await client.update('secret/data/e2e/patched', { data: { b: null, c: '3' } });
    expect(patched.data.version).toBe(2);
    expect((await client.read('secret/data/e2e/patched')).data.data).toEqual({ a: '1', c: '3' });
  });

  it('lists with the LIST verb', async () => {
    for (const path of ['app', 'folder/x', 'patched']) await client.write(`secret/data/e2e/${path}`, { data: { a: 1 } });
    const listed = await client.list('secret/metadata/e2e');
    expect(listed.data.keys).toEqual(['app', 'folder/', 'patched']);
    const empty = await failure(client.list('secret/metadata/e2e-none'));
    expect(empty.statusCode).toBe(404);
    expect(empty.body).toEqual({ errors: [] });
  });

  it('reads metadata and uses check-and-set', async () => {
    await client.write('secret/data/e2e/cas', { data: { a: 1 }, options: { cas: 0 } });
    const mismatch = await failure(client.write('secret/data/e2e/cas', { data: { a: 2 }, options: { cas: 0 } }));
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.message).toBe('check-and-set parameter did not match the current version');
    const meta = await client.read('secret/metadata/e2e/cas');
    expect(meta.data.current_version).toBe(1);
    expect(Object.keys(meta.data.versions)).toEqual(['1']);
  });

  it('deletes the latest version, and the read answers 404 with the version metadata', async () => {
    await client.write('secret/data/e2e/del', { data: { a: 1 } });
    await client.delete('secret/data/e2e/del');
    const gone = await failure(client.read('secret/data/e2e/del'));
    expect(gone.statusCode).toBe(404);
    expect(gone.body.data.data).toBeNull();
    expect(gone.body.data.metadata.deletion_time).not.toBe('');
    await client.write('secret/undelete/e2e/del', { versions: [1] });
    expect((await client.read('secret/data/e2e/del')).data.data).toEqual({ a: 1 });
  });

  it('destroys versions and deletes metadata', async () => {
    await client.write('secret/data/e2e/gone', { data: { a: 1 } });
    await client.write('secret/destroy/e2e/gone', { versions: [1] });
    expect((await failure(client.read('secret/data/e2e/gone'))).body.data.metadata.destroyed).toBe(true);
    await client.delete('secret/metadata/e2e/gone');
    const missing = await failure(client.read('secret/metadata/e2e/gone'));
    expect(missing.statusCode).toBe(404);
    expect(missing.message).toBe('Status 404');
  });

  it('reads subkeys and the mount config', async () => {
    await client.write('secret/data/e2e/sub', { data: { db: { host: 'h' }, token: 't' } });
    expect((await client.read('secret/subkeys/e2e/sub')).data.subkeys).toEqual({ db: { host: null }, token: null });
    expect((await client.read('secret/config')).data).toEqual({ cas_required: false, delete_version_after: '0s', max_versions: 0 });
  });
});
