/** Display helpers: times, durations, statuses. */

export function relativeTime(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.round((now - t) / 1000);
  if (Math.abs(s) < 5) return 'just now';
  const abs = Math.abs(s);
  const [n, unit] = abs < 60 ? [abs, 's'] : abs < 3600 ? [Math.round(abs / 60), 'min'] : abs < 86400 ? [Math.round(abs / 3600), 'h'] : [Math.round(abs / 86400), 'd'];
  return s >= 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`;
}

export function seconds(n: number | undefined): string {
  if (n === undefined) return '—';
  if (n < 60) return `${n} s`;
  if (n < 3600) return `${Math.floor(n / 60)} min ${n % 60} s`;
  return `${Math.floor(n / 3600)} h ${Math.floor((n % 3600) / 60)} min`;
}

/** The CSS class of a sync status badge. */
export function statusTone(status: string): 'ok' | 'pending' | 'error' | 'neutral' {
  if (status === 'SYNCED') return 'ok';
  if (status.endsWith('_ERROR')) return 'error';
  if (status === 'PENDING' || status === 'UNSYNCING' || status === 'SYNCING') return 'pending';
  return 'neutral';
}
