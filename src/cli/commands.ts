import { randomBytes } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { KEYS, keyDefaults, loadIni } from '../../config/index.ts';
// The package entry, not manager.ts alone: importing it registers the memory and file providers.
import { SessionError, createManager, isSessionError, isValidId, type Manager, type ManagerOptions } from '../index.ts';
import { BUILT_IN_PROVIDERS } from '../registry.ts';
import { MASK, redactProviderConfig, scrub, sensitiveValues } from './redact.ts';

/** EXIT are the CLI's exit codes: 0 done, 1 the command line is wrong, 2 the config or the store failed. */
export const EXIT = { ok: 0, usage: 1, failure: 2 } as const;

/** CliOutput receives what the CLI prints; each call is one or more whole lines. */
export interface CliOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** USAGE is the text of `sessionkit --help`. */
export const USAGE = `usage: sessionkit <command> <app.ini> [argument] [--section <name>]

Operate on the session store configured in the [session] section of an INI file.

commands:
  check <app.ini>                   parse the config, open the store, write, read and delete a
                                    test record, and print the effective config (secrets hidden)
  count <app.ini>                   print the number of live sessions
  gc <app.ini>                      run one gc pass now
  destroy <app.ini> <sid>           remove one session by id
  destroy-user <app.ini> <userId>   remove every session bound to a user (log out everywhere)

options:
  -s, --section <name>   INI section with the session keys (default: session)
  -i, --import <module>  import a module before reading the config, so a third-party provider
                         registers itself (e.g. --import sessionkit-sqlite or ./my-provider.js);
                         a path is relative to the current directory; may be repeated
  -h, --help             show this help

exit codes: 0 done, 1 usage error, 2 config or store error
`;

interface Command {
  args: readonly string[];
  run(manager: Manager, args: readonly string[], context: Context): Promise<void>;
}

interface Context {
  file: string;
  section: string;
  options: ManagerOptions;
  secrets: string[];
  out: CliOutput;
}

/** UsageError is a mistake on the command line: exit code 1 with a pointer to --help. */
class UsageError extends Error {}

const COMMANDS: Readonly<Record<string, Command>> = {
  check: { args: [], run: check },
  count: { args: [], run: count },
  gc: { args: [], run: gc },
  destroy: { args: ['sid'], run: destroy },
  'destroy-user': { args: ['userId'], run: destroyUser },
};

/**
 * run executes one `sessionkit` command line (without `node` and the script) and resolves to its
 * exit code ({@link EXIT}); it never throws and never prints a password or secret. Messages of
 * failures name the bad key where the config is at fault.
 */
export async function run(argv: readonly string[], out: CliOutput): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        section: { type: 'string', short: 's', default: 'session' },
        import: { type: 'string', short: 'i', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return usage(out, (error as Error).message);
  }
  if (parsed.values.help) {
    out.stdout(USAGE);
    return EXIT.ok;
  }
  const [name, file, ...args] = parsed.positionals;
  if (name === undefined) return usage(out, 'missing command');
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) return usage(out, `unknown command ${JSON.stringify(name)} (commands: ${Object.keys(COMMANDS).join(', ')})`);
  const synopsis = `${name} <app.ini>${command.args.map((a) => ` <${a}>`).join('')}`;
  if (file === undefined || args.length !== command.args.length) return usage(out, `usage: sessionkit ${synopsis}`);

  const section = parsed.values.section ?? 'session';
  let secrets: string[] = [];
  let manager: Manager | undefined;
  try {
    for (const specifier of parsed.values.import ?? []) await importModule(specifier);
    const options = await loadIni(file, { section });
    secrets = [...secretsOf(options), ...(await atKey(file, section, providerSecrets(options)))];
    manager = await atKey(file, section, createManager({ ...options, gcInterval: 0 }));
    await command.run(manager, args, { file, section, options, secrets, out });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof UsageError) return usage(out, error.message);
    const message = error instanceof Error ? error.message : String(error);
    const code = isSessionError(error) ? ` [${error.code}]` : '';
    out.stderr(`sessionkit ${name}: ${scrub(message, secrets)}${code}\n`);
    return EXIT.failure;
  } finally {
    await closeQuietly(manager);
  }
}

function usage(out: CliOutput, problem: string): number {
  out.stderr(`sessionkit: ${problem}\nrun "sessionkit --help" for the commands\n`);
  return EXIT.usage;
}

function secretsOf(options: ManagerOptions): string[] {
  const secret = options.secret;
  return secret === undefined ? [] : Array.isArray(secret) ? secret : [secret];
}

/** importProvider imports `sessionkit/providers/<name>` for a built-in name, which registers it. */
async function importProvider(name: string): Promise<Record<string, unknown> | undefined> {
  if (!BUILT_IN_PROVIDERS.includes(name)) return undefined;
  try {
    return (await import(`sessionkit/providers/${name}`)) as Record<string, unknown>;
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException | undefined)?.code ?? 'import failed';
    throw new SessionError('ERR_SESSION_UNKNOWN_PROVIDER', `session: cannot load provider "${name}" from sessionkit/providers/${name} (${reason})`, { cause });
  }
}

/**
 * importModule imports `specifier` for its side effects, as `node --import` would: a path
 * (`./x.js`, `/abs/x.js`) from the current directory, a package name from where sessionkit is
 * installed — the app's node_modules, where the package must find this same sessionkit for the
 * provider it registers to be seen.
 */
async function importModule(specifier: string): Promise<void> {
  const path = specifier.startsWith('.') || isAbsolute(specifier);
  const url = path ? pathToFileURL(resolve(specifier)).href : specifier;
  try {
    await import(url);
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException | undefined)?.code ?? 'it threw';
    throw new SessionError(
      'ERR_SESSION_MISSING_DEPENDENCY',
      `session: --import ${JSON.stringify(specifier)} failed (${reason}); install the package in the app beside sessionkit, or give the module's path (./path/to/provider.js)`,
      { cause },
    );
  }
}

/** providerSecrets returns the passwords inside PROVIDER_CONFIG, as the provider's own parser reads them. */
async function providerSecrets(options: ManagerOptions): Promise<string[]> {
  const name = typeof options.provider === 'string' ? options.provider : 'memory';
  const module = await importProvider(name);
  const config = options.providerConfig ?? '';
  if (typeof module?.parseConfig !== 'function' || config === '') return [];
  try {
    return sensitiveValues((module.parseConfig as (config: string) => unknown)(config));
  } catch {
    // A config the provider rejects is reported by createManager, with the key it names.
    return [];
  }
}

/**
 * atKey awaits `step` (loading the provider or opening the store) and, when it fails with a
 * provider or store error, says which key of which file is at fault: PROVIDER or PROVIDER_CONFIG.
 */
async function atKey<T>(file: string, section: string, step: Promise<T>): Promise<T> {
  try {
    return await step;
  } catch (error) {
    if (!isSessionError(error)) throw error;
    const key = error.code === 'ERR_SESSION_UNKNOWN_PROVIDER' || error.code === 'ERR_SESSION_INVALID_PROVIDER' ? 'PROVIDER'
      : error.code === 'ERR_SESSION_PROVIDER_CONFIG' || error.code === 'ERR_SESSION_STORE' || error.code === 'ERR_SESSION_MISSING_DEPENDENCY' ? 'PROVIDER_CONFIG'
        : undefined;
    if (key === undefined) throw error;
    throw new SessionError(error.code, `${file} [${section}] ${key}: ${error.message}`, { cause: error });
  }
}

async function closeQuietly(manager: Manager | undefined): Promise<void> {
  if (!manager) return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([manager.close(), new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
  } catch {
    // The command's own outcome is what counts; a failing close adds nothing the user can act on.
  } finally {
    clearTimeout(timer);
  }
}

async function check(manager: Manager, _args: readonly string[], context: Context): Promise<void> {
  const { store, providerName } = manager;
  const sid = manager.newId();
  const record = `sessionkit check ${randomBytes(8).toString('hex')}`;
  const expiresAt = manager.options.now() + 60_000;
  const step = async <T>(action: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw isSessionError(error) ? error : new SessionError('ERR_SESSION_STORE', `session/${providerName}: ${action} failed: ${(error as Error).message}`, { cause: error });
    }
  };
  await step('set', () => store.set(sid, record, expiresAt));
  try {
    const read = await step('get', () => store.get(sid));
    if (read !== record) {
      throw new SessionError('ERR_SESSION_STORE', `session/${providerName}: a test record read back ${read === undefined ? 'as missing' : 'changed'}`);
    }
  } finally {
    await step('destroy', () => store.destroy(sid));
  }
  if ((await step('get', () => store.get(sid))) !== undefined) {
    throw new SessionError('ERR_SESSION_STORE', `session/${providerName}: a destroyed test record is still readable`);
  }
  context.out.stdout(`ok: provider ${providerName} stored, read and deleted a test record\n\n${effectiveConfig(context)}`);
}

/** effectiveConfig renders the options in force — the file's values over the defaults — as an INI section, secrets masked. */
function effectiveConfig({ file, section, options, secrets }: Context): string {
  const effective: Record<string, unknown> = { ...keyDefaults(), ...options };
  const lines = [`; effective settings of ${file}, defaults filled in`, `[${section}]`];
  for (const row of KEYS) {
    if (row.option === undefined) continue;
    const value = effective[row.option];
    if (value === undefined) {
      lines.push(`; ${row.name} is not set`);
    } else if (row.option === 'secret') {
      const count = Array.isArray(value) ? value.length : 1;
      lines.push(`${row.name} = ${MASK}${count > 1 ? ` (${count} secrets)` : ''}`);
    } else if (row.option === 'providerConfig') {
      lines.push(`${row.name} = ${redactProviderConfig(String(value), secrets)}`.trimEnd());
    } else {
      const text = Array.isArray(value) ? value.join(', ') : String(value);
      lines.push(`${row.name} = ${row.sensitive ? MASK : scrub(text, secrets)}`.trimEnd());
    }
  }
  return lines.join('\n') + '\n';
}

async function count(manager: Manager, _args: readonly string[], { out }: Context): Promise<void> {
  out.stdout(`${await manager.count()}\n`);
}

async function gc(manager: Manager, _args: readonly string[], { out }: Context): Promise<void> {
  if (!manager.store.gc) {
    out.stdout(`gc: nothing to do; provider ${manager.providerName} expires sessions by itself\n`);
    return;
  }
  await manager.gc();
  const live = manager.store.count ? `; ${await manager.count()} live sessions` : '';
  out.stdout(`gc: pass done${live}\n`);
}

async function destroy(manager: Manager, [sid]: readonly string[], { out }: Context): Promise<void> {
  if (!isValidId(sid, manager.options.idLength)) {
    throw new UsageError(`${JSON.stringify(sid)} is not a session id (${manager.options.idLength} hex characters)`);
  }
  let existed: boolean;
  try {
    existed = (await manager.store.get(sid!)) !== undefined;
  } catch (error) {
    throw isSessionError(error) ? error : new SessionError('ERR_SESSION_STORE', `session/${manager.providerName}: load failed: ${(error as Error).message}`, { cause: error });
  }
  await manager.destroy(sid!);
  out.stdout(existed ? `destroyed session ${sid}\n` : `no live session ${sid}; nothing to destroy\n`);
}

async function destroyUser(manager: Manager, [userId]: readonly string[], { out }: Context): Promise<void> {
  if (userId === undefined || userId === '') throw new UsageError('destroy-user needs a non-empty user id');
  const destroyed = await manager.destroyUserSessions(userId);
  out.stdout(`destroyed ${destroyed} session${destroyed === 1 ? '' : 's'} of user ${JSON.stringify(userId)}\n`);
}
