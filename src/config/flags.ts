/**
 * Go-style flag parsing as Vault's CLI does it: one or two dashes, `-flag=value` or
 * `-flag value`, boolean flags that take no value (`-dev`, or `-dev=false`), and repeatable
 * flags (`-config a.hcl -config dir/`). Each command declares its flags once, with their
 * defaults and environment variables, and its usage text is made from that declaration.
 */
export interface FlagDef {
  name: string;
  kind: 'boolean' | 'string' | 'list';
  /** How the default reads in the usage text. */
  default: string;
  /** The environment variable read when the flag is not given. */
  env?: string;
  help: string;
}

export class FlagError extends Error {}

/** Raised for `-h`, `-help`, `--help`: the caller prints the usage and exits 0. */
export class HelpRequested extends Error {}

export type Flags = Record<string, string | boolean | string[]>;

export function parseFlags(args: string[], defs: FlagDef[]): { flags: Flags; rest: string[] } {
  const flags: Flags = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      rest.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      rest.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq === -1 ? body : body.slice(0, eq);
    const inline = eq === -1 ? undefined : body.slice(eq + 1);
    if (name === 'h' || name === 'help') throw new HelpRequested();
    const def = defs.find((d) => d.name === name);
    if (!def) throw new FlagError(`flag provided but not defined: -${name}`);
    if (def.kind === 'boolean') {
      if (inline === undefined) flags[name] = true;
      else if (['1', 't', 'true', 'TRUE', 'True'].includes(inline)) flags[name] = true;
      else if (['0', 'f', 'false', 'FALSE', 'False'].includes(inline)) flags[name] = false;
      else throw new FlagError(`invalid boolean value "${inline}" for -${name}`);
      continue;
    }
    let value: string;
    if (inline !== undefined) value = inline;
    else if (i + 1 < args.length) value = args[++i]!;
    else throw new FlagError(`flag needs an argument: -${name}`);
    if (def.kind === 'list') flags[name] = [...((flags[name] as string[] | undefined) ?? []), value];
    else flags[name] = value;
  }
  return { flags, rest };
}

/** A string flag's value: the flag, else its environment variable, else undefined. */
export function flagOrEnv(flags: Flags, def: FlagDef | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!def) return undefined;
  const given = flags[def.name];
  if (typeof given === 'string') return given;
  return def.env && env[def.env] ? env[def.env] : undefined;
}

/** The usage block of a command's flags: every flag with its default and environment variable. */
export function describeFlags(defs: FlagDef[]): string {
  return defs
    .map((d) => {
      const head = d.kind === 'boolean' ? `  -${d.name}` : `  -${d.name}=<${d.kind === 'list' ? 'path' : 'string'}>`;
      const notes = [`Default: ${d.default}`, ...(d.env ? [`Environment: ${d.env}`] : [])].join('. ');
      return `${head}\n      ${d.help}\n      ${notes}.`;
    })
    .join('\n\n');
}
