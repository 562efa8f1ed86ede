/**
 * Go-style flag parsing as Vault's CLI does it: one or two dashes, `-flag=value` or
 * `-flag value`, and boolean flags that take no value (`-dev`, or `-dev=false`).
 */
export interface FlagSpec {
  boolean: string[];
  string: string[];
}

export class FlagError extends Error {}

export function parseFlags(args: string[], spec: FlagSpec): { flags: Record<string, string | boolean>; rest: string[] } {
  const flags: Record<string, string | boolean> = {};
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
    if (spec.boolean.includes(name)) {
      if (inline === undefined) flags[name] = true;
      else if (['1', 't', 'true', 'TRUE', 'True'].includes(inline)) flags[name] = true;
      else if (['0', 'f', 'false', 'FALSE', 'False'].includes(inline)) flags[name] = false;
      else throw new FlagError(`invalid boolean value "${inline}" for -${name}`);
    } else if (spec.string.includes(name)) {
      if (inline !== undefined) flags[name] = inline;
      else if (i + 1 < args.length) flags[name] = args[++i]!;
      else throw new FlagError(`flag needs an argument: -${name}`);
    } else {
      throw new FlagError(`flag provided but not defined: -${name}`);
    }
  }
  return { flags, rest };
}
