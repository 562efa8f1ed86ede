/** A JSON merge patch (RFC 7396) of a destination, turned into what `applyAwsSmInput` takes. */
import type { AwsSmInput } from './destinations.js';

/** Splits a merge-patch body: nulls reset fields; custom_tags members set to null are removed. */
export function mergePatchInput(raw: Record<string, unknown>, data: AwsSmInput): { input: AwsSmInput; nulls: string[] } {
  const nulls = Object.entries(raw)
    .filter(([, v]) => v === null)
    .map(([k]) => k);
  const input = { ...data };
  // Nested maps merge as JSON merge patch says: members set to null are removed.
  for (const field of ['replica_regions', 'regional_kms_keys'] as const) {
    const patch = raw[field];
    if (patch && typeof patch === 'object' && !Array.isArray(patch)) {
      input[field] = Object.fromEntries(
        Object.entries(patch as Record<string, unknown>).map(([k, v]) => [k, v === null ? null : typeof v === 'string' ? v : JSON.stringify(v)]),
      ) as Record<string, string>;
    }
  }
  const tags = raw.custom_tags;
  if (tags && typeof tags === 'object' && !Array.isArray(tags)) {
    const removed = Object.entries(tags as Record<string, unknown>)
      .filter(([, v]) => v === null)
      .map(([k]) => k);
    input.custom_tags = Object.fromEntries(
      Object.entries(tags as Record<string, unknown>)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
    );
    input.tags_to_remove = [...(input.tags_to_remove ?? []), ...removed];
  }
  return { input, nulls };
}
