import type { Store } from '../store/store.js';
import { policyErrors } from './errors.js';
import { normalisePolicyName } from './policy-name.js';
import { DEFAULT_POLICY, parsePolicy, type Policy } from './policy.js';

const PREFIX = 'sys/policy/';

interface StoredPolicy {
  name: string;
  raw: string;
}

/**
 * ACL policies in storage (behind the barrier), with a parsed-policy cache. Every change
 * bumps `generation` so the authorizer can drop compiled ACLs built from older text.
 * `root` is built in: it cannot be read, written or deleted; `default` cannot be deleted.
 */
export class PolicyStore {
  private cache = new Map<string, Policy | null>();
  /** Increases on every write, delete and reset. */
  generation = 0;

  constructor(private readonly store: Store) {}

  /** Creates the `default` policy if it does not exist yet (first unseal after init). */
  async ensureDefault(): Promise<void> {
    if (!(await this.store.get(PREFIX + 'default'))) await this.write('default', DEFAULT_POLICY);
  }

  /** Forgets every cached policy (on seal). */
  reset(): void {
    this.cache.clear();
    this.generation++;
  }

  async get(rawName: string): Promise<Policy | undefined> {
    const name = normalisePolicyName(rawName);
    if (name === 'root') return undefined;
    const cached = this.cache.get(name);
    if (cached !== undefined) return cached ?? undefined;
    const generation = this.generation;
    const row = await this.store.get(PREFIX + name);
    const policy = row ? parsePolicy(name, (JSON.parse(row.value.toString('utf8')) as StoredPolicy).raw) : null;
    // Only cache what was read under the current generation: a write may have raced us.
    if (generation === this.generation) this.cache.set(name, policy);
    return policy ?? undefined;
  }

  /** Names of every stored policy plus `root`, sorted. */
  async list(): Promise<string[]> {
    const names = await this.store.list(PREFIX);
    return [...new Set([...names.filter((n) => !n.endsWith('/')), 'root'])].sort();
  }

  /** Validates and stores a policy; a syntax error is a 400 naming the line. */
  async write(rawName: string, text: string): Promise<void> {
    const name = normalisePolicyName(rawName);
    if (name === '') throw policyErrors.nameRequired();
    if (name === 'root') throw policyErrors.rootImmutable();
    parsePolicy(name, text);
    const value: StoredPolicy = { name, raw: text };
    await this.store.commit([{ kind: 'put', key: PREFIX + name, value: Buffer.from(JSON.stringify(value)) }]);
    this.cache.delete(name);
    this.generation++;
  }

  async delete(rawName: string): Promise<void> {
    const name = normalisePolicyName(rawName);
    if (name === 'root' || name === 'default') throw policyErrors.undeletable(name);
    await this.store.commit([{ kind: 'delete', key: PREFIX + name }]);
    this.cache.delete(name);
    this.generation++;
  }
}
