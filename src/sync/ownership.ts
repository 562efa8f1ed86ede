import { OWNER_TAG, SYNC_TAG, type AssociationRef, type Destination } from './model.js';
import { DeliveryError } from './port.js';

/**
 * Whose an external secret is. Ferry owns what it has a record of creating (`OwnedSecret` in
 * `records.ts`): the guide's minimal IAM policy grants no read at all, so ownership cannot
 * depend on reading AWS. Every secret Ferry syncs also carries an owner tag naming the Ferry
 * cluster and destination; when `DescribeSecret` is granted, that tag decides about a secret
 * found at a target name without a record. `hashicorp:vault` alone decides nothing: Vault and
 * every other Ferry destination set it too.
 */

/** The owner tag's value for a destination: `<cluster id>/<type>/<name>`. */
export function ownerTagValue(clusterId: string, dest: Pick<Destination, 'type' | 'name'>): string {
  return `${clusterId}/${dest.type}/${dest.name}`;
}

/** The tags every secret of a destination carries: Vault's tag, the owner tag, then the custom tags. */
export function syncedSecretTags(clusterId: string, dest: Pick<Destination, 'type' | 'name' | 'options'>): Record<string, string> {
  return { [SYNC_TAG]: '', [OWNER_TAG]: ownerTagValue(clusterId, dest), ...dest.options.custom_tags };
}

/** What the tags of a pre-existing secret say about it. */
export type TagVerdict =
  /** Ferry's owner tag for this destination: a secret it synced and lost the record of (a force-deleted destination, re-created). */
  | { kind: 'own' }
  /** Another destination's (of this cluster or another one). */
  | { kind: 'other'; owner: string }
  /** No owner tag, or only `hashicorp:vault`: someone else's, or Vault's (adoption is not automatic). */
  | { kind: 'unowned' };

export function judgeByTags(tags: Record<string, string>, ownValue: string): TagVerdict {
  const owner = tags[OWNER_TAG];
  if (owner === undefined) return { kind: 'unowned' };
  return owner === ownValue ? { kind: 'own' } : { kind: 'other', owner };
}

/** A claimant of an external secret, as a conflict names it: a destination and an association. */
export interface Claimant {
  dest: string;
  accessor: string;
  secret_name: string;
}

/** The association a claimant names, to re-queue it. */
export function claimantRef(c: Claimant): AssociationRef {
  const [type, ...name] = c.dest.split('/');
  return { dest_type: type as 'aws-sm', dest_name: name.join('/'), accessor: c.accessor, secret_name: c.secret_name };
}

const describeClaimant = (c: Claimant) => `${c.dest} (${c.accessor}/${c.secret_name})`;

/** Final errors of the ownership rules, shown on the association; never retried until something changes. */
export const ownershipErrors = {
  /** A secret exists at the name and Ferry has no record of creating it. */
  notOurs: (name: string, reason: 'unreadable' | 'untagged') =>
    new DeliveryError(
      'final',
      'CLIENT_SIDE_ERROR',
      'SecretNotOwned',
      `a secret named "${name}" already exists in AWS Secrets Manager and Ferry has no record of creating it; ` +
        (reason === 'untagged'
          ? `it does not carry this destination's ${OWNER_TAG} tag, and Ferry does not overwrite secrets it did not create`
          : `Ferry does not overwrite secrets it did not create (AWS denied secretsmanager:DescribeSecret, so its tags could not be checked)`),
    ),
  /** The secret carries another destination's owner tag. */
  ownedElsewhere: (name: string, owner: string) =>
    new DeliveryError(
      'final',
      'CLIENT_SIDE_ERROR',
      'SecretOwnedElsewhere',
      `conflict: the secret "${name}" in AWS Secrets Manager belongs to another destination (${OWNER_TAG} = "${owner}"); Ferry does not overwrite it`,
    ),
  /** Another association of the same destination syncs to the same name. */
  claimedInDestination: (name: string, by: Claimant) =>
    new DeliveryError(
      'final',
      'CLIENT_SIDE_ERROR',
      'SecretClaimed',
      `conflict: the secret "${name}" in AWS Secrets Manager is synced by another association of this destination, ${describeClaimant(by)}`,
    ),
  /** Left by the migration: several associations claimed one secret (one of them had adopted it). */
  claimConflict: (name: string, others: Claimant[]) =>
    new DeliveryError(
      'final',
      'CLIENT_SIDE_ERROR',
      'SecretClaimConflict',
      `conflict: the secret "${name}" in AWS Secrets Manager is also claimed by ${others.map(describeClaimant).join(', ')}; ` +
        'Ferry writes and deletes it again once only one of these associations is left',
    ),
};
