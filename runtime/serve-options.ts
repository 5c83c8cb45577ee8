// The options of `kubeflow-mcp serve`, from the declaration of every setting (specs/settings.yaml):
// commander builds the help and the error messages from them, and the start-up path parses a plain
// command line with node's own parseArgs (no commander, and no help text, to load before the
// first answer).
import { parseArgs } from 'node:util';
import { SETTINGS, type SettingCommand, type SettingDecl } from '../generated/settings.ts';
import { SETTING_HELP } from '../generated/settings-help.ts';

interface ServeOption {
  flags: string;
  description: string;
}

/** The flags of `serve`, in the declaration's order. */
const flagged = (command: SettingCommand) =>
  (SETTINGS as readonly SettingDecl[]).filter((s) => s.flag && s.commands.includes(command));
const SERVE_FLAGS = flagged('serve').map((s) => ({ key: s.key, flags: s.flag! }));

/** The options of another command (sandbox), with the defaults commander shows in its help. */
export function commandOptions(command: 'sandbox'): Array<ServeOption & { default?: string }> {
  return flagged(command).map((s) => ({
    flags: s.flag!,
    description: SETTING_HELP[s.key],
    ...(s.default !== undefined && s.type !== 'bool' ? { default: String(s.default) } : {}),
  }));
}

// Pure: the start-up bundle, which never prints help, leaves the help lines out.
export const SERVE_OPTIONS: ServeOption[] = /* @__PURE__ */ SERVE_FLAGS.map((o) => ({
  flags: o.flags,
  description: SETTING_HELP[o.key],
}));

const camel = (s: string) => s.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/**
 * The flags of a `serve` command line as commander would give them ({persona, logLevel, banner...}),
 * or undefined when the line needs commander (help, version, a mistake to explain).
 */
export function parseServeFlags(argv: string[]): Record<string, unknown> | undefined {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  const keys: Record<string, string> = {};
  for (const o of SERVE_FLAGS) {
    const m = o.flags.match(/^(?:-(\w), )?--([\w-]+)(?: <\w+>)?$/)!;
    options[m[2]] = { type: o.flags.includes('<') ? 'string' : 'boolean', ...(m[1] ? { short: m[1] } : {}) };
    keys[m[2]] = m[2] === 'no-banner' ? 'banner' : camel(m[2]);
  }
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch {
    return undefined;
  }
  const flags: Record<string, unknown> = { banner: true };
  for (const [k, v] of Object.entries(values)) flags[keys[k]] = k === 'no-banner' ? !v : v;
  return flags;
}
