/**
 * ListSecrets / BatchGetSecretValue filters (spec §2.11): values within one filter are OR-ed,
 * filters are AND-ed, a leading `!` negates. `name`, `tag-key`, `tag-value`, `primary-region`,
 * `owning-service` are case-sensitive prefix matches; `description` a case-insensitive prefix
 * match (as the model says); `all` splits the value into words and looks for each, case-
 * insensitively, as a prefix of a word of any attribute.
 */
import type { SecretRecord } from './store.js';

export interface Filter {
  Key?: string;
  Values?: string[];
}

function attributes(record: SecretRecord, key: string): string[] {
  const core = record.core;
  switch (key) {
    case 'name':
      return [core.name];
    case 'description':
      return core.description === undefined ? [] : [core.description];
    case 'tag-key':
      return (core.tags ?? []).map((t) => t.Key);
    case 'tag-value':
      return (core.tags ?? []).map((t) => t.Value);
    case 'primary-region':
      return [core.primaryRegion];
    case 'owning-service':
      return [];
    default:
      return [
        core.name,
        core.description ?? '',
        ...(core.tags ?? []).flatMap((t) => [t.Key, t.Value]),
        core.primaryRegion,
      ];
  }
}

function matchesValue(record: SecretRecord, key: string, value: string): boolean {
  const attrs = attributes(record, key);
  if (key === 'description') return attrs.some((a) => a.toLowerCase().startsWith(value.toLowerCase()));
  if (key === 'all') {
    const words = attrs.flatMap((a) => [a, ...a.split(/[^A-Za-z0-9]+/)]).map((w) => w.toLowerCase());
    return value
      .toLowerCase()
      .split(/\s+/)
      .filter((w) => w !== '')
      .every((w) => words.some((a) => a.startsWith(w)));
  }
  return attrs.some((a) => a.startsWith(value));
}

function matchesFilter(record: SecretRecord, filter: Filter): boolean {
  const key = filter.Key ?? 'all';
  const values = filter.Values ?? [];
  const positive = values.filter((v) => !v.startsWith('!'));
  const negative = values.filter((v) => v.startsWith('!')).map((v) => v.slice(1));
  if (negative.some((v) => matchesValue(record, key, v))) return false;
  return positive.length === 0 || positive.some((v) => matchesValue(record, key, v));
}

export function applyFilters(records: SecretRecord[], filters: Filter[]): SecretRecord[] {
  return records.filter((r) => filters.every((f) => matchesFilter(r, f)));
}
