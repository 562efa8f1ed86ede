import type { MountEntry } from '../kernel/entries.js';
import { syncErrors } from './errors.js';
import { DEFAULT_KEY_TEMPLATE, DEFAULT_TEMPLATE, type Destination, type SyncOptions } from './model.js';
import { TemplateBudgetError, renderTemplate, type TemplateContext } from './template.js';

/**
 * The names synced secrets get at the destination: the destination's template rendered for a
 * secret (and key), then normalised to what AWS Secrets Manager accepts, as Vault does.
 */

/** The template a destination applies: the one configured, or the default of its granularity. */
export function effectiveTemplate(options: SyncOptions): string {
  if (options.secret_name_template) return options.secret_name_template;
  return options.granularity_level === 'secret-key' ? DEFAULT_KEY_TEMPLATE : DEFAULT_TEMPLATE;
}

/** AWS Secrets Manager's name alphabet and length. */
const AWS_NAME_INVALID = /[^A-Za-z0-9/_+=.@-]/g;
export const AWS_NAME_MAX = 512;

/**
 * Normalises a rendered name to AWS's character set as Vault does: every character outside
 * `A-Za-z0-9/_+=.@-` becomes `_`. Returns undefined when no valid name results (empty, or
 * longer than AWS allows).
 */
export function normaliseAwsName(name: string): string | undefined {
  const out = name.replace(AWS_NAME_INVALID, '_');
  if (out.length === 0 || out.length > AWS_NAME_MAX) return undefined;
  return out;
}

/** What a template sees for one secret (and key) of a mount, synced to a destination. */
function templateContext(
  dest: Pick<Destination, 'type' | 'name'>,
  mount: { path: string; accessor: string },
  secret: string,
  subKey: string,
): TemplateContext {
  const mountPath = mount.path.replace(/\/$/, '');
  return {
    DestinationType: dest.type,
    DestinationName: dest.name,
    NamespacePath: '',
    NamespaceBaseName: '',
    NamespaceID: 'root',
    MountPath: mountPath,
    MountBaseName: mountPath.split('/').pop() ?? mountPath,
    MountAccessor: mount.accessor,
    SecretPath: secret,
    SecretBaseName: secret.split('/').pop() ?? secret,
    SecretKey: subKey,
  };
}

/**
 * External names of an association for the given sub-keys ('' for secret-path granularity),
 * rendered from its template snapshot; throws when one cannot be made a valid AWS name.
 */
export function externalNames(
  dest: Pick<Destination, 'type' | 'name'>,
  mount: MountEntry,
  secret: string,
  template: string,
  subKeys: string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const subKey of subKeys) {
    let rendered: { rendered: string; name: string | undefined };
    try {
      rendered = renderName(template, templateContext(dest, mount, secret, subKey));
    } catch (err) {
      if (err instanceof TemplateBudgetError) throw syncErrors.secretOverBudget(err.message);
      throw err;
    }
    if (rendered.name === undefined) throw syncErrors.secretUnnameable(rendered.rendered);
    out[subKey] = rendered.name;
  }
  return out;
}

/**
 * Renders one name within the rendering budget. A name longer than AWS allows stops the
 * rendering there (it could not be valid anyway): no name then. Exceeding the budget of the
 * actions' output throws TemplateBudgetError.
 */
function renderName(template: string, ctx: TemplateContext): { rendered: string; name: string | undefined } {
  try {
    const rendered = renderTemplate(template, ctx, AWS_NAME_MAX);
    return { rendered, name: normaliseAwsName(rendered) };
  } catch (err) {
    if (err instanceof TemplateBudgetError && err.limit === 'length') return { rendered: err.partial, name: undefined };
    throw err;
  }
}

/**
 * The name a template gives an ordinary secret (`kv/app/secret`, key `key`), so that a
 * template that cannot name anything is refused when the destination is written. Throws
 * TemplateBudgetError for a template over the rendering budget.
 */
export function sampleName(dest: Pick<Destination, 'type' | 'name' | 'options'>, template: string): { rendered: string; name: string | undefined } {
  return renderName(template, {
    ...templateContext(dest, { path: 'kv/', accessor: 'kv_00000000' }, 'app/secret', dest.options.granularity_level === 'secret-key' ? 'key' : ''),
    // This check has always rendered MountPath with its trailing slash (one character more than real names).
    MountPath: 'kv/',
  });
}
