/**
 * The storage layer's coded errors (see `src/kernel/errors.ts`). What a client sees of a storage
 * failure is only this: never a driver message, a host name or a statement.
 */
import { defineError, FerryError } from '../kernel/errors.js';

const unavailable = defineError('store.unavailable', 'unavailable', () => 'storage is unavailable: the database cannot be reached or is restarting; try again');

export const storeErrors = {
  /**
   * The database cannot be reached, is restarting, or lost the connection during the request: a
   * 503, since the client may try again. When it happened during a commit, the commit may or may
   * not have been applied (the answer was lost), as with any network database.
   */
  unavailable: (cause?: unknown): FerryError => {
    const err = unavailable();
    return cause === undefined ? err : new FerryError(err.code, err.kind, err.errors, { cause });
  },
};
