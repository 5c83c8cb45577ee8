// specs/settings.yaml, every setting of the commands declared once: checked here beyond its
// meta-schema (defaults of the declared type, names used once), then rendered as the typed table
// the runtime reads (generated/settings.ts), the help lines commander prints
// (generated/settings-help.ts, off the start-up path), and the README's and the docs site's tables.
import type { Problems, SourceFile } from './source.ts';

export type SettingType =
  | 'string'
  | 'int'
  | 'number'
  | 'bool'
  | 'enum'
  | 'list'
  | 'url'
  | 'seconds'
  | 'path'
  | 'secret';
export type Command = 'serve' | 'sandbox' | 'agent';

/** One setting as specs/settings.yaml declares it (the map key becomes `key`). */
export interface SettingSpec {
  key: string;
  doc: string;
  help?: string;
  type: SettingType;
  values?: string[];
  default?: unknown;
  default_doc?: string;
  min?: number;
  max?: number;
  above?: number;
  commands: Command[];
  flag?: string;
  env?: string[];
  file?: string[];
  standard?: boolean;
}

const NUMERIC = new Set<SettingType>(['int', 'number', 'seconds']);

/** The settings in file order, each checked; problems are reported at their YAML positions. */
export function checkSettings(
  raw: Record<string, Omit<SettingSpec, 'key'>> | undefined,
  file: SourceFile | undefined,
  problems: Problems,
): SettingSpec[] {
  const out = Object.entries(raw ?? {}).map(([key, s]) => ({ key, ...s }));
  const at = (key: string, field: string, message: string) => problems.at(file, ['settings', key, field], message);
  const envOwner = new Map<string, string>();
  const fileOwner = new Map<string, string>();
  const flagOwner = new Map<string, string>();
  for (const s of out) {
    const d = s.default;
    if (d !== undefined) {
      const ok =
        s.type === 'bool'
          ? typeof d === 'boolean'
          : NUMERIC.has(s.type)
            ? typeof d === 'number' && (s.type !== 'int' || Number.isInteger(d))
            : s.type === 'list'
              ? Array.isArray(d) && d.every((x) => typeof x === 'string')
              : typeof d === 'string' && (s.type !== 'enum' || s.values!.includes(d));
      if (!ok) at(s.key, 'default', `is not of type ${s.type}${s.values ? ` (one of ${s.values.join(', ')})` : ''}`);
      if (typeof d === 'number' && !inBounds(s, d)) at(s.key, 'default', 'is outside the bounds');
    }
    if (!NUMERIC.has(s.type))
      for (const b of ['min', 'max', 'above'] as const)
        if (s[b] !== undefined) at(s.key, b, `bounds apply to int, number and seconds, not ${s.type}`);
    if (s.min !== undefined && s.above !== undefined) at(s.key, 'above', 'give min or above, not both');
    if (s.flag && s.type === 'bool' && s.flag.includes('<')) at(s.key, 'flag', 'a bool flag takes no value');
    if (s.flag && s.type !== 'bool' && !s.flag.includes('<')) at(s.key, 'flag', `a ${s.type} flag takes a <value>`);
    if (s.standard && !s.env) at(s.key, 'standard', 'only an environment variable can belong to another tool');
    for (const name of s.env ?? []) {
      if (envOwner.has(name)) at(s.key, 'env', `${name} is already the variable of ${envOwner.get(name)}`);
      envOwner.set(name, s.key);
    }
    for (const k of s.file ?? []) {
      if (fileOwner.has(k)) at(s.key, 'file', `${k} is already the key of ${fileOwner.get(k)}`);
      fileOwner.set(k, s.key);
    }
    if (s.flag)
      for (const c of s.commands) {
        const id = `${c} ${longFlag(s.flag)}`;
        if (flagOwner.has(id)) at(s.key, 'flag', `${c} already has ${longFlag(s.flag)} (${flagOwner.get(id)})`);
        flagOwner.set(id, s.key);
      }
  }
  return out;
}

const inBounds = (s: SettingSpec, n: number) =>
  (s.min === undefined || n >= s.min) && (s.above === undefined || n > s.above) && (s.max === undefined || n <= s.max);

const longFlag = (flag: string) => /--[\w-]+/.exec(flag)![0];

const TS_TYPE: Record<SettingType, string> = {
  string: 'string',
  int: 'number',
  number: 'number',
  bool: 'boolean',
  enum: '',
  list: 'string[]',
  url: 'string',
  seconds: 'number',
  path: 'string',
  secret: 'string',
};

/** generated/settings.ts: the table runtime/settings.ts reads, and the type of each value. */
export function settingsModule(settings: SettingSpec[], banner: string): string {
  const rows = settings.map((s) => {
    const { doc: _doc, help: _help, default_doc: _dd, ...rest } = s;
    return `  ${JSON.stringify(rest)},`;
  });
  const values = settings.map((s) => {
    const t = s.type === 'enum' ? s.values!.map((v) => JSON.stringify(v)).join(' | ') : TS_TYPE[s.type];
    return `  ${s.key}: ${t}${s.default === undefined ? ' | undefined' : ''};`;
  });
  return `${banner}
export type SettingType = ${[...new Set(Object.keys(TS_TYPE))].map((t) => JSON.stringify(t)).join(' | ')};
export type SettingCommand = 'serve' | 'sandbox' | 'agent';

/** One declared setting (specs/settings.yaml; its documentation is in settings-help.ts). */
export interface SettingDecl {
  key: string;
  type: SettingType;
  values?: readonly string[];
  default?: unknown;
  min?: number;
  max?: number;
  above?: number;
  commands: readonly SettingCommand[];
  flag?: string;
  env?: readonly string[];
  file?: readonly string[];
  /** Its variable belongs to another tool and is read as that tool documents it. */
  standard?: boolean;
}

export const SETTINGS = [
${rows.join('\n')}
] as const satisfies readonly SettingDecl[];

export type SettingKey = (typeof SETTINGS)[number]['key'];

/** The value of each setting once parsed (undefined: not set and without a default). */
export interface SettingValues {
${values.join('\n')}
}
`;
}

/** generated/settings-help.ts: each setting's --help line (loaded with commander only). */
export function settingsHelpModule(settings: SettingSpec[], banner: string): string {
  const rows = settings.map((s) => `  ${s.key}: ${JSON.stringify(s.help ?? s.doc)},`);
  return `${banner}
export const SETTING_HELP: Record<string, string> = {
${rows.join('\n')}
};
`;
}

/** The default as a reader sees it: the value, or the words for a computed one. */
export function defaultText(s: SettingSpec): string | undefined {
  if (s.default_doc) return s.default_doc;
  if (s.default === undefined || s.default === false) return undefined;
  return Array.isArray(s.default) ? s.default.join(',') : String(s.default);
}

const typeText = (s: SettingSpec) => {
  const bounds =
    s.min !== undefined || s.above !== undefined || s.max !== undefined
      ? ` ${s.above !== undefined ? `>${s.above}` : (s.min ?? '')}..${s.max ?? ''}`
      : '';
  return s.type === 'enum' ? s.values!.join(' \\| ') : `${s.type}${bounds}`;
};

const COMMAND_TITLE: Record<Command, string> = {
  serve: '`kubeflow-mcp serve`',
  sandbox: '`kubeflow-mcp sandbox`',
  agent: '`kubeflow-mcp agent` (its flags: `kubeflow-mcp agent --help`)',
};

/** The table of every setting of one command, as markdown, with `code` rendering inline code and
 * `cell` escaping plain text (the docs site escapes for Vue, the README only for tables). */
export function settingsTable(
  settings: SettingSpec[],
  command: Command,
  code: (s: string) => string,
  cell: (s: string) => string,
): string {
  const rows = settings
    .filter((s) => s.commands.includes(command))
    .map((s) => {
      const env = (s.env ?? []).map((e, i) => (i === 0 ? code(e) : `${code(e)} (upstream)`)).join(', ');
      const flag = s.flag ? code(s.flag.replace(/ <\w+>$/, '')) : '';
      const file = (s.file ?? []).map(code).join(', ');
      const dflt = s.default_doc ? cell(s.default_doc) : defaultText(s) === undefined ? '' : code(defaultText(s)!);
      const doc = `${cell(s.doc)}${s.standard ? ' (standard variable)' : ''}${s.type === 'secret' ? ' (never logged)' : ''}`;
      return `| ${flag} | ${env} | ${file} | ${typeText(s)} | ${dflt} | ${doc} |`;
    });
  return [
    '| Flag | Environment | Config file | Type | Default | What it sets |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** The README's configuration block (between its `generated:settings` markers). */
export function readmeSettings(settings: SettingSpec[]): string {
  const code = (s: string) => `\`${s.replace(/\|/g, '\\|')}\``;
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  return (['serve', 'sandbox', 'agent'] as Command[])
    .map((c) => `${COMMAND_TITLE[c]}:\n\n${settingsTable(settings, c, code, cell)}`)
    .join('\n\n');
}

export const SETTINGS_COMMANDS: Command[] = ['serve', 'sandbox', 'agent'];
export const settingsCommandTitle = (c: Command) => COMMAND_TITLE[c];
