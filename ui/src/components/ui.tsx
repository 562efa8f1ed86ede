import type { ComponentChildren, JSX } from 'preact';
import { navigate } from '../router';
import { statusTone } from '../format';

/** An in-app link: a real `<a href>` (middle-click, copy link work), routed without a reload. */
export function Link(props: { href: string; children: ComponentChildren; class?: string; 'aria-current'?: 'page' | undefined }) {
  const onClick = (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(props.href);
  };
  return (
    <a href={props.href} class={props.class} onClick={onClick} aria-current={props['aria-current']}>
      {props.children}
    </a>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge badge-${statusTone(status)}`}>{status}</span>;
}

export function Alert(props: { tone: 'error' | 'warning' | 'info' | 'success'; children: ComponentChildren; id?: string }) {
  // Errors interrupt (role=alert); the others are announced politely.
  return (
    <div id={props.id} class={`alert alert-${props.tone}`} role={props.tone === 'error' ? 'alert' : 'status'}>
      {props.children}
    </div>
  );
}

/** A labelled form field with its API message beside it (`aria-describedby`, `aria-invalid`). */
export function Field(props: {
  id: string;
  label: string;
  hint?: ComponentChildren;
  error?: string;
  children: (attrs: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: 'true' }) => JSX.Element;
}) {
  const describedBy = [props.hint ? `${props.id}-hint` : '', props.error ? `${props.id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field${props.error ? ' field-invalid' : ''}`}>
      <label for={props.id}>{props.label}</label>
      {props.children({ id: props.id, 'aria-describedby': describedBy, ...(props.error ? { 'aria-invalid': 'true' as const } : {}) })}
      {props.hint && (
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      )}
      {props.error && (
        <p class="field-error" id={`${props.id}-error`}>
          {props.error}
        </p>
      )}
    </div>
  );
}

/** A definition list of key → value pairs (connection details, options, metadata). */
export function Details({ entries }: { entries: Array<[string, ComponentChildren]> }) {
  return (
    <dl class="details">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** Renders an option value (objects as `k=v` pairs, arrays comma-separated). */
export function showValue(v: unknown): string {
  if (v === undefined || v === null || v === '') return '—';
  if (Array.isArray(v)) return v.length ? v.join(', ') : '—';
  if (typeof v === 'object') {
    const pairs = Object.entries(v as Record<string, unknown>);
    return pairs.length ? pairs.map(([k, x]) => `${k}=${String(x)}`).join(', ') : '—';
  }
  return String(v);
}

/** Messages of an API failure assigned to the fields they name; the rest stay general. */
export function messagesByField(messages: string[], fields: string[]): { byField: Record<string, string>; general: string[] } {
  const byField: Record<string, string> = {};
  const general: string[] = [];
  // Longer names first, so `sts_endpoint_url` is not taken for `endpoint_url`.
  const ordered = [...fields].sort((a, b) => b.length - a.length);
  for (const m of messages) {
    // A message led by `field:` is about that field; otherwise the first field it names, outside
    // the values it quotes (`invalid destination name "eu-region!"` is not about the region).
    const lead = /^([a-z_]+):/.exec(m)?.[1];
    const bare = m.replace(/"[^"]*"/g, '""');
    const field = lead && fields.includes(lead) ? lead : ordered.find((f) => new RegExp(`(^|[^a-z_])${f}([^a-z_]|$)`).test(bare));
    if (field) byField[field] = byField[field] ? `${byField[field]} ${m}` : m;
    else general.push(m);
  }
  return { byField, general };
}
