/**
 * Vault's `standard` log format (hclog's): `2026-11-29T07:05:52.107Z [INFO]  message: key=value`,
 * made from the JSON line pino writes. A small formatter rather than pino-pretty: the format is
 * one line of code, and pino-pretty would bring a dozen packages into the production image.
 */
const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'ERROR' };

function render(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return `[${value.map(render).join(' ')}]`;
  return JSON.stringify(value);
}

export function formatStandardLine(jsonLine: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(jsonLine) as Record<string, unknown>;
  } catch {
    return jsonLine;
  }
  const { level, time, msg, err, ...fields } = entry;
  const name = LEVELS[Number(level)] ?? String(level);
  const when = typeof time === 'number' ? new Date(time).toISOString() : new Date().toISOString();
  const pairs = Object.entries(fields).map(([k, v]) => `${k}=${render(v)}`);
  if (err && typeof err === 'object') pairs.push(`error=${render((err as { message?: unknown }).message ?? err)}`);
  const text = typeof msg === 'string' ? msg : '';
  return `${when} [${name}]${' '.repeat(Math.max(1, 6 - name.length))}${text}${pairs.length ? `: ${pairs.join(' ')}` : ''}\n`;
}
