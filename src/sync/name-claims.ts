import type { Association, Destination, NameClaimant } from './model.js';
import { withRetry } from '../store/store.js';
import type { SyncChange, SyncRecords } from './records.js';

/**
 * Which associations sync to each AWS name, per region: the claims, recorded when an association
 * is set (and when a new key of a `secret-key` secret gets its name), released when it is
 * forgotten. They let Ferry refuse, when an association is set, a name another association
 * already syncs — in the same destination, or in another destination whose account and region
 * are known to be the same — rather than find out in AWS later. AWS-side ownership (records and
 * owner tags, `ownership.ts`) still guards every write; the claims make the collision a 400
 * naming the other association instead of a conflict status after the fact.
 *
 * A claim stays valid only while its association exists and has a target of that name; stale
 * claims (a target renamed away, a key removed) are ignored when read and dropped when the
 * record is next written, so only adding a claim has to be exact.
 */

/** Where an association's secrets live: its endpoint, region and (when known) account. */
interface Place {
  endpoint: string;
  region: string;
  account: string | undefined;
}

/** A collision found: the other association, and why it is the same secret. */
export interface NameCollision {
  other: NameClaimant;
  /** `destination`: another association of the same destination; `account`: another destination in the same account and region. */
  within: 'destination' | 'account';
  account?: string;
  region: string;
}

const sameClaimant = (a: NameClaimant, b: NameClaimant) => a.dest === b.dest && a.accessor === b.accessor && a.secret_name === b.secret_name;
export const claimantOf = (a: Pick<Association, 'dest_type' | 'dest_name' | 'accessor' | 'secret_name'>): NameClaimant => ({
  dest: `${a.dest_type}/${a.dest_name}`,
  accessor: a.accessor,
  secret_name: a.secret_name,
});
const destRef = (dest: string) => {
  const [type, ...rest] = dest.split('/');
  return { type: type!, name: rest.join('/') };
};

export class NameClaims {
  constructor(
    private readonly records: SyncRecords,
    /** The account a destination's secrets live in, when it can be learnt (`AdapterRegistry.accountOf`). */
    private readonly accountOf: (d: Destination) => Promise<string | undefined>,
  ) {}

  /** The claimants of `name` in `region` whose association still syncs to it, and the record's revision. */
  async live(region: string, name: string): Promise<{ claimants: NameClaimant[]; revision: number }> {
    const row = await this.records.nameClaims(region, name);
    const claimants: NameClaimant[] = [];
    for (const c of row.value) {
      const { type, name: destName } = destRef(c.dest);
      const a = await this.records.association(type, destName, c.accessor, c.secret_name);
      if (a && Object.values(a.value.targets).some((t) => t.name === name)) claimants.push(c);
    }
    return { claimants, revision: row.revision };
  }

  /**
   * The first live claimant other than `me` that syncs `name` where `dest` would: in the same
   * destination, or in a destination known to share its endpoint, region and account.
   */
  async collision(dest: Destination, me: NameClaimant, name: string, claimants: NameClaimant[]): Promise<NameCollision | undefined> {
    const region = dest.connection.region;
    let mine: Place | undefined;
    for (const other of claimants) {
      if (sameClaimant(other, me)) continue;
      if (other.dest === me.dest) return { other, within: 'destination', region };
      const { type, name: otherName } = destRef(other.dest);
      const otherDest = (await this.records.destination(type, otherName))?.value;
      if (!otherDest) continue;
      mine ??= await this.placeOf(dest);
      const theirs = await this.placeOf(otherDest);
      if (mine.account !== undefined && mine.account === theirs.account && mine.endpoint === theirs.endpoint && mine.region === theirs.region) {
        return { other, within: 'account', account: mine.account, region };
      }
    }
    return undefined;
  }

  /**
   * Records `me` as a claimant of `names` in `change` (each record checked at the revision it
   * was read at, so two concurrent claims of one name cannot both pass), or returns the first
   * collision without recording anything.
   */
  async claim(change: SyncChange, dest: Destination, me: NameClaimant, names: string[]): Promise<{ name: string; collision: NameCollision } | undefined> {
    const region = dest.connection.region;
    const writes: Array<() => void> = [];
    for (const name of new Set(names)) {
      const { claimants, revision } = await this.live(region, name);
      const collision = await this.collision(dest, me, name, claimants);
      if (collision) return { name, collision };
      writes.push(() => change.saveNameClaims(region, name, [...claimants.filter((c) => !sameClaimant(c, me)), me], revision));
    }
    for (const write of writes) write();
    return undefined;
  }

  /**
   * Claims a new key's name at once, in a commit of its own (under `secret-key` granularity,
   * keys appear after the association was set); the conflict it meets, as the key's error, if
   * another association syncs to it. A crash before the association records the key leaves a
   * stale claim, which `live` ignores.
   */
  async claimNewKey(dest: Destination, me: NameClaimant, key: string, name: string): Promise<string | undefined> {
    return withRetry(async () => {
      const change = this.records.change();
      const taken = await this.claim(change, dest, me, [name]);
      if (!taken) {
        await change.commit();
        return undefined;
      }
      const { other, within } = taken.collision;
      const where = within === 'destination' ? 'another association of this destination' : `destination ${other.dest}, in the same AWS account and region,`;
      return `conflict: key "${key}" would be synced to "${name}", which ${where} already syncs (${other.accessor}/${other.secret_name}); it is not written`;
    });
  }

  /** Drops `a`'s claims of its targets' names in `change` (the association is being forgotten). */
  async release(change: SyncChange, a: Association, region: string): Promise<void> {
    const me = claimantOf(a);
    for (const name of new Set(Object.values(a.targets).map((t) => t.name))) {
      const row = await this.records.nameClaims(region, name);
      if (!row.value.some((c) => sameClaimant(c, me))) continue;
      change.saveNameClaims(
        region,
        name,
        row.value.filter((c) => !sameClaimant(c, me)),
        row.revision,
      );
    }
  }

  private async placeOf(d: Destination): Promise<Place> {
    return { endpoint: d.connection.endpoint_url.replace(/\/+$/, ''), region: d.connection.region, account: await this.accountOf(d) };
  }
}
