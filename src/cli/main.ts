// The `credits` command line (commander). Each command's module is imported only when it runs, so start-up
// stays close to a bare `node` start.
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { defaultStreams, printErrors, type Streams } from './output.js';
import { DEFAULT_RATE_LIMITS as LIMITS } from '../api/rate-limits.js';

const version = (): string => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
};

const examples = (lines: string[]): string => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

export interface DbOptions {
  databaseUrl?: string;
}

/** Runs a command body, printing coded errors and setting the exit code (0 ok, 1 error, 2 changes). */
async function run(body: () => Promise<number> | number, streams: Streams = defaultStreams): Promise<void> {
  try {
    process.exitCode = await body();
  } catch (err) {
    printErrors([err], streams);
    process.exitCode = 1;
  }
}

export function buildProgram(streams: Streams = defaultStreams): Command {
  const program = new Command('credits')
    .description('GitOps for AI-usage credits: declare budgets in credits.yaml, plan and apply them.')
    .version(version(), '-v, --version')
    .addOption(
      new Option(
        '--database-url <url>',
        'PostgreSQL connection string (default: embedded PGlite in ./.credits/)',
      ).env('DATABASE_URL'),
    )
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => streams.stdout.write(s), writeErr: (s) => streams.stderr.write(s) });
  const db = (): DbOptions => ({ databaseUrl: program.opts<{ databaseUrl?: string }>().databaseUrl });

  program
    .command('init')
    .description('write a starter credits.yaml and create the database')
    .option('-f, --file <file>', 'where to write the file', 'credits.yaml')
    .option('--account <id>', 'account id (slug) for the starter file', 'acme')
    .option('--force', 'overwrite an existing file')
    .option('--no-database', 'only write the file')
    .addHelpText('after', examples(['credits init', 'credits init --account acme -f infra/credits.yaml']))
    .action((opts) =>
      run(
        async () => (await import('./commands/init.js')).initCommand({ ...opts, ...db() }, streams),
        streams,
      ),
    );

  program
    .command('validate')
    .description('check credits.yaml against the schema and the budget rules (no database needed)')
    .option('-f, --file <file>', 'the file to check', 'credits.yaml')
    .option('--json', 'machine-readable result (the same as --format json)')
    .addOption(
      new Option('--format <format>', 'text, json, or github (workflow commands that annotate the diff)')
        .choices(['text', 'json', 'github'])
        .default('text'),
    )
    .addHelpText(
      'after',
      examples([
        'credits validate',
        'credits validate -f examples/company.yaml --json',
        'credits validate --format github    # in a GitHub Actions step',
      ]),
    )
    .action((opts) =>
      run(async () => (await import('./commands/validate.js')).validateCommand(opts, streams), streams),
    );

  program
    .command('plan')
    .description('show what apply would change in the live state')
    .option('-f, --file <file>', 'the desired state', 'credits.yaml')
    .option('--out <plan.json>', 'save the plan for `credits apply plan.json`')
    .addOption(new Option('--json', 'versioned machine-readable plan').conflicts('markdown'))
    .addOption(new Option('--markdown', 'a pull-request comment').conflicts('json'))
    .option('--detailed-exitcode', 'exit 2 when there are changes, 0 when none')
    .option('--allow-destroy', 'allow deleting or emptying protected groups')
    .option('--replay', "replay the previous cycle's usage against the proposed budgets")
    .option('--fail-on-warning', 'exit 1 when the plan has any warning (ALLOCATION_BELOW_USED, …)')
    .addHelpText(
      'after',
      examples([
        'credits plan',
        'credits plan --replay --markdown > comment.md',
        'credits plan --fail-on-warning    # in CI: stop on risky changes',
        'credits plan --out plan.json --detailed-exitcode',
        'credits plan --markdown > comment.md',
      ]),
    )
    .action((opts) =>
      run(
        async () => (await import('./commands/plan.js')).planCommand({ ...opts, ...db() }, streams),
        streams,
      ),
    );

  program
    .command('apply')
    .description('apply a saved plan, or plan and apply credits.yaml')
    .argument(
      '[plan.json]',
      'a plan saved by `credits plan --out`: applied only if planning the configuration it carries gives it again',
    )
    .option(
      '-f, --file <file>',
      'the desired state (not read with a saved plan, which carries its own)',
      'credits.yaml',
    )
    .option('--auto-approve', 'do not ask for confirmation')
    .option('--allow-destroy', 'allow deleting or emptying protected groups')
    .option('--actor <who>', 'recorded in the audit log (default: GIT_AUTHOR_EMAIL or USER)')
    .option('--commit <sha>', 'commit SHA recorded in the audit log (default: GITHUB_SHA)')
    .addHelpText(
      'after',
      examples(['credits apply', 'credits apply plan.json', 'credits apply -f credits.yaml --auto-approve']),
    )
    .action((planFile, opts) =>
      run(
        async () =>
          (await import('./commands/apply.js')).applyCommand({ ...opts, planFile, ...db() }, streams),
        streams,
      ),
    );

  program
    .command('export')
    .description('write the live state as credits.yaml')
    .option('--account <id>', 'the account (optional when the database holds one)')
    .option('--out <file>', 'write to a file instead of stdout')
    .addHelpText(
      'after',
      examples(['credits export > credits.yaml', 'credits export --account acme --out live.yaml']),
    )
    .action((opts) =>
      run(
        async () => (await import('./commands/export.js')).exportCommand({ ...opts, ...db() }, streams),
        streams,
      ),
    );

  program
    .command('migrate')
    .description('bring the database schema up to date')
    .addHelpText(
      'after',
      examples(['credits migrate', 'DATABASE_URL=postgres://localhost/credits credits migrate']),
    )
    .action(() =>
      run(async () => (await import('./commands/migrate.js')).migrateCommand(db(), streams), streams),
    );

  program
    .command('reset-cycle')
    .description('end the current cycle now: used starts again from 0 (history is kept)')
    .requiredOption('--account <id>', 'the account')
    .option('--yes', 'do not ask for confirmation')
    .addHelpText(
      'after',
      examples(['credits reset-cycle --account acme', 'credits reset-cycle --account acme --yes']),
    )
    .action((opts) =>
      run(
        async () => (await import('./commands/ledger.js')).resetCycleCommand({ ...opts, ...db() }, streams),
        streams,
      ),
    );

  program
    .command('cycle')
    .description('show the current cycle and the next boundaries')
    .option('--account <id>', 'the account (optional when the database holds one)')
    .option('--count <n>', 'how many boundaries to show', '3')
    .addHelpText('after', examples(['credits cycle', 'credits cycle --account acme --count 6']))
    .action((opts) =>
      run(
        async () => (await import('./commands/ledger.js')).cycleCommand({ ...opts, ...db() }, streams),
        streams,
      ),
    );

  program
    .command('verify')
    .description('prove that every balance equals the sum of its ledger entries')
    .option('--account <id>', 'the account (optional when the database holds one)')
    .addHelpText('after', examples(['credits verify', 'credits verify --account acme']))
    .action((opts) =>
      run(
        async () => (await import('./commands/ledger.js')).verifyCommand({ ...opts, ...db() }, streams),
        streams,
      ),
    );

  // History: usage entries (or their sums) and the audit log, read from the database (src/ledger).
  const historyOptions = (command: Command) =>
    command
      .option('--account <id>', 'the account (optional when the database holds one)')
      .option('--member <email>', "only this member's rows")
      .option('--group <key>', "only this group's rows")
      .option('--from <date>', 'from this instant on (ISO 8601: 2026-03-01 or 2026-03-01T09:00:00Z)')
      .option('--to <date>', 'before this instant (exclusive)')
      .option('--format <format>', 'table, json or csv', 'table')
      .option('--limit <n>', 'at most this many rows (tables: 50 unless given; json and csv: all)');
  historyOptions(
    program
      .command('usage')
      .description('list usage entries, or with --summary their sums per member or group and day or hour'),
  )
    .option('--summary', 'sums instead of entries')
    .option('--by <what>', 'with --summary: member or group', 'member')
    .option('--bucket <size>', 'with --summary: day or hour (UTC)', 'day')
    .addHelpText(
      'after',
      examples([
        'credits usage --member alice@acme.com --from 2026-03-01',
        'credits usage --format csv --from 2026-03-01 --to 2026-04-01 > march.csv',
        'credits usage --summary --by group --bucket day --format json',
      ]),
    )
    .action((opts) =>
      run(
        async () => (await import('./commands/history.js')).usageCommand({ ...opts, ...db() }, streams),
        streams,
      ),
    );
  historyOptions(
    program.command('audit').description('list the audit log: who changed what, when, from where'),
  )
    .option('--actor <who>', 'only changes by this actor')
    .option('--source <source>', 'only changes from this source (apply, api)')
    .addHelpText(
      'after',
      examples([
        'credits audit',
        'credits audit --member alice@acme.com --format json',
        'credits audit --format csv',
      ]),
    )
    .action((opts) =>
      run(
        async () => (await import('./commands/history.js')).auditCommand({ ...opts, ...db() }, streams),
        streams,
      ),
    );

  program
    .command('alerts')
    .description('list the latest budget threshold alerts and their webhook deliveries and failures')
    .option('--account <id>', 'the account (optional when the database holds one)')
    .option('--format <format>', 'table or json', 'table')
    .option('--limit <n>', 'at most this many alerts, newest first (1 to 500)', '20')
    .addHelpText('after', examples(['credits alerts', 'credits alerts --format json --limit 100']))
    .action((opts) =>
      run(
        async () => (await import('./commands/alerts.js')).alertsCommand({ ...opts, ...db() }, streams),
        streams,
      ),
    );

  program
    .command('purge-keys')
    .description('delete idempotency keys past their retention (credits serve does this hourly)')
    .option('--older-than <age>', 'keys created longer ago than <N>h or <N>d, at least 24h', '24h')
    .addHelpText('after', examples(['credits purge-keys', 'credits purge-keys --older-than 7d']))
    .action((opts) =>
      run(
        async () => (await import('./commands/ledger.js')).purgeKeysCommand({ ...opts, ...db() }, streams),
        streams,
      ),
    );

  const token = program
    .command('token')
    .description('API tokens: create, list, revoke')
    .addHelpText(
      'after',
      examples([
        'credits token create --account acme --role admin',
        'credits token list --account acme',
        'credits token revoke --account acme cr_QXNCPw2',
      ]),
    );
  token
    .command('create')
    .description('print a new API token once, alone on stdout')
    .requiredOption('--account <id>', 'the account the token is scoped to')
    .requiredOption('--role <role>', 'admin | member | service')
    .option('--member <email>', 'for member tokens: whose token it is')
    .addHelpText(
      'after',
      examples([
        'credits token create --account acme --role admin',
        'credits token create --account acme --role member --member alice@acme.com',
      ]),
    )
    .action((opts) =>
      run(
        async () => (await import('./commands/token.js')).tokenCreateCommand({ ...opts, ...db() }, streams),
        streams,
      ),
    );
  token
    .command('list')
    .description('list tokens (prefix, role, member; never the token)')
    .requiredOption('--account <id>', 'the account')
    .addHelpText('after', examples(['credits token list --account acme']))
    .action((opts) =>
      run(
        async () => (await import('./commands/token.js')).tokenListCommand({ ...opts, ...db() }, streams),
        streams,
      ),
    );
  token
    .command('revoke')
    .description('revoke a token by id, by the prefix `token list` shows (6 characters or more), or whole')
    .requiredOption('--account <id>', 'the account')
    .argument('<token>', 'token id, prefix (e.g. cr_QXNCPw2), or the whole token')
    .addHelpText(
      'after',
      examples([
        'credits token revoke --account acme cr_QXNCPw2',
        'credits token revoke --account acme 1b4e28ba-2fa1-11d2-883f-0016d3cca427',
      ]),
    )
    .action((t, opts) =>
      run(
        async () =>
          (await import('./commands/token.js')).tokenRevokeCommand({ ...opts, token: t, ...db() }, streams),
        streams,
      ),
    );

  program
    .command('serve')
    .description('serve the runtime API (/v1, OpenAPI at /docs) and the dashboard (/)')
    .option('--port <port>', 'TCP port', '3000')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--rate-limit-admin <n>', `requests a minute per admin token (default ${LIMITS.admin})`)
    .option(
      '--rate-limit-service <n>',
      `requests a minute per service token, e.g. a gateway's (default ${LIMITS.service})`,
    )
    .option('--rate-limit-member <n>', `requests a minute per member token (default ${LIMITS.member})`)
    .option(
      '--rate-limit-anonymous <n>',
      `requests a minute per client address without a valid token; also its failed token lookups (default ${LIMITS.anonymous})`,
    )
    .addHelpText('after', '\nCREDITS_RATE_LIMIT=<n> sets every limit no flag sets.')
    .addHelpText(
      'after',
      examples([
        'credits serve',
        'credits serve --port 8080 --host 0.0.0.0',
        'credits serve --rate-limit-service 120000 --rate-limit-member 300',
      ]),
    )
    .action((opts) =>
      run(
        async () => (await import('./commands/serve.js')).serveCommand({ ...opts, ...db() }, streams),
        streams,
      ),
    );

  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
