import { z } from 'zod';
import type { TokenEntry } from '../kernel/entries.js';
import { vStrings } from '../kernel/fields.js';
import type { LogicalResponse } from '../kernel/request.js';
import type { Authorizer } from '../kernel/services.js';
import { sysErrors } from './errors.js';

/** The fields of every capabilities query: the paths to check (`path` is the older name). */
export const capabilityFields = { paths: vStrings(), path: vStrings() };
/** Path → capability list, plus `capabilities` when one path was asked. */
export const capabilitiesResponse = z.record(z.string(), z.array(z.string()));

/** Vault's rendering: `["root"]` for root tokens, `["deny"]` when nothing is granted, else sorted. */
async function capabilityList(authorizer: Authorizer, token: TokenEntry, path: string): Promise<string[]> {
  if (token.policies.includes('root')) return ['root'];
  const caps = await authorizer.capabilities(token, path.replace(/^\/+/, ''));
  if (caps.size === 0 || caps.has('deny')) return ['deny'];
  return [...caps].sort();
}

/**
 * The capabilities a token holds on each requested path. With one path the list is also
 * under `capabilities`, for older clients.
 */
export async function capabilitiesAnswer(
  authorizer: Authorizer,
  token: TokenEntry,
  data: { paths?: string[]; path?: string[] },
): Promise<LogicalResponse> {
  const paths = [...(data.paths ?? []), ...(data.path ?? [])];
  if (paths.length === 0) throw sysErrors.pathsRequired();
  const out: Record<string, string[]> = {};
  for (const p of paths) out[p] = await capabilityList(authorizer, token, p);
  if (paths.length === 1) out.capabilities = out[paths[0]!]!;
  return { data: out };
}
