/** What every Secrets Manager operation handler receives. */
import type { PageTokens } from './paging.js';
import type { SecretsStore } from './store.js';

export interface OpContext {
  /** Caller's account and the region of the SigV4 scope: together, the namespace. */
  accountId: string;
  region: string;
  /** Emulator clock, ms epoch. */
  now: number;
  principalArn: string;
  operation: string;
  store: SecretsStore;
  pages: PageTokens;
}

/** A handler returns the JSON output; `undefined` members are omitted on the wire. */
export type Handler<I> = (ctx: OpContext, input: I) => Record<string, unknown>;
