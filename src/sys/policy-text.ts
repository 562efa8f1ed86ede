import { sysErrors } from './errors.js';

/** The policy text of a write: Vault accepts it base64-encoded too (HCL and JSON text is never valid base64). */
export function policyText(raw: string | undefined): string {
  const text = raw ?? '';
  if (text.trim() === '') throw sysErrors.policyRequired();
  if (text.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    const decoded = Buffer.from(text, 'base64').toString('utf8');
    if (decoded.trim() !== '') return decoded;
  }
  return text;
}
