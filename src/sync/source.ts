/**
 * What sync needs from the KV engine, as a port: the domain reads the latest state of a
 * secret by mount accessor and path, and never talks HTTP or SQL.
 */
export interface SecretState {
  /** Changes when the secret's metadata is deleted and the secret re-created. */
  incarnation: string;
  /** The current version number. */
  version: number;
  /** What `vault kv get` returns, or null when the latest version is deleted, destroyed or expired. */
  data: Record<string, unknown> | null;
  /** When the current version was committed (Unix ms), for the delivery latency metric. */
  committedAt?: number;
}

export interface SecretSource {
  /** Undefined when the secret does not exist at all (no metadata). */
  read(accessor: string, path: string): Promise<SecretState | undefined>;
  /**
   * Up to `limit` secret paths of a mount under `under` (a folder ending with `/`, or ''), in
   * key order, after `after` (null: from the start); none for a mount that is not KV v2.
   */
  list(accessor: string, under: string, after: string | null, limit: number): Promise<string[]>;
}
