/** What every Secrets Manager operation handler receives. */
import type { AccessRequest } from '../authorization.js';
import type { ListingViews } from './listing-views.js';
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
  /** What ListSecrets sees (stale under a listing lag). */
  listing: ListingViews;
  /** The random ARN suffix a secret created by this call gets (decided before authorization, which evaluates that ARN). */
  newSecretSuffix: string;
  /** Evaluates the caller's identity policies and records the checks; throws AccessDeniedException on a refusal. */
  authorize(requests: AccessRequest[]): void;
}

/** A handler returns the JSON output; `undefined` members are omitted on the wire. */
export type Handler<I> = (ctx: OpContext, input: I) => Record<string, unknown>;
