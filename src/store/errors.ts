/**
 * The storage layer's coded errors (see `src/kernel/errors.ts`). What a client sees of a storage
 * failure is only this: never a driver message, a host name or a statement.
 */
import { defineError, FerryError } from '../kernel/errors.js';

const keyTooLong = defineError(
  'store.key_too_long',
  'invalid',
  () => 'the path is too long for this storage: PostgreSQL indexes at most about 2,700 bytes of a storage key',
);

const unavailable = defineError('store.unavailable', 'unavailable', () => 'storage is unavailable: the database cannot be reached or is restarting; try again');

const withCause = (err: FerryError, cause: unknown): FerryError =>
  cause === undefined ? err : new FerryError(err.code, err.kind, err.errors, { cause });

export const storeErrors = {
  /** A key longer than PostgreSQL's btree can index (after compression): a 400, nothing written. */
  keyTooLong: (cause?: unknown): FerryError => withCause(keyTooLong(), cause),
  /**
   * The database cannot be reached, is restarting, or lost the connection during the request: a
   * 503, since the client may try again. When it happened during a commit, the commit may or may
   * not have been applied (the answer was lost), as with any network database.
   */
  unavailable: (cause?: unknown): FerryError => withCause(unavailable(), cause),
};

/**
 * A store made by a newer Ferry, refused at start by either driver: its entries may be in forms
 * this Ferry would misread and then overwrite. Not a client's error: the server does not start.
 */
export const newerSchemaError = (found: number, known: number): Error =>
  new Error(`the database's Ferry schema is version ${found}, newer than this Ferry knows (${known}): upgrade Ferry`);
