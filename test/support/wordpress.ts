// A real WordPress for the plugin's end-to-end test (/work/shared/WORDPRESS.md has the facts):
// Debian's `wordpress` copied to a temp folder, a private MariaDB on a socket, installed from
// php-cli, served by Debian's Apache with mod_php (prefork, several workers: an SSE stream must not
// block the other requests), no output buffering, the plugin linked in from the repo. Not PHP's
// built-in server: it ignores a failed write to a client that went away (EPIPE), so a script can
// never notice that the browser aborted its LLM stream; Apache (and PHP-FPM) do. `close()` removes it all.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PLUGIN_DIR } from '../../scripts/wordpress-plugin.mjs';

export interface WordPressSite {
  url: string;
  dir: string;
  /** Runs PHP with WordPress loaded (as the admin user); resolves with what it printed. */
  php(code: string): string;
  /** The PHP error log's lines (WordPress 6.1's PHP 8.2 deprecation notices and its failed calls home left out). */
  errors(): string[];
  close(): Promise<void>;
}

const WORDPRESS = '/usr/share/wordpress';

function run(cmd: string, args: string[], options: { input?: string } = {}): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...options });
}

async function startMariaDb(dir: string): Promise<{ socket: string; proc: ChildProcess }> {
  const data = join(dir, 'data');
  const run_dir = join(dir, 'run');
  mkdirSync(run_dir, { recursive: true });
  // The server runs as `mysql`: its socket, pid and log folder must be writable for it.
  chownSync(run_dir, ...ids('mysql'));
  run('mariadb-install-db', ['--no-defaults', '--user=mysql', `--datadir=${data}`, '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve']);
  const socket = join(run_dir, 'sock');
  const proc = spawn(
    '/usr/sbin/mariadbd',
    ['--no-defaults', '--user=mysql', `--datadir=${data}`, `--socket=${socket}`, `--pid-file=${join(run_dir, 'pid')}`, `--log-error=${join(run_dir, 'error.log')}`, '--skip-networking', '--skip-log-bin', '--innodb-buffer-pool-size=32M'],
    { stdio: 'ignore' },
  );
  for (let i = 0; ; i++) {
    try {
      run('mariadb-admin', [`--socket=${socket}`, '-uroot', 'ping']);
      break;
    } catch {
      if (i > 200 || proc.exitCode !== null) throw new Error(`MariaDB did not start:\n${readFileSync(join(run_dir, 'error.log'), 'utf8').slice(-2000)}`);
      await sleep(50);
    }
  }
  run('mariadb', [`--socket=${socket}`, '-uroot'], { input: "CREATE DATABASE wp; CREATE USER 'wp'@'localhost' IDENTIFIED BY 'wp'; GRANT ALL ON wp.* TO 'wp'@'localhost';" });
  return { socket, proc };
}

/**
 * Starts the site on 127.0.0.1:`port` with the plugin active and a page `/talk/` holding
 * `pageContent`; `settings` and `secrets` are the plugin's options.
 */
export async function startWordPress(port: number, pageContent: string, settings: Record<string, string>, secrets: Record<string, string>): Promise<WordPressSite> {
  const dir = mkdtempSync(join(tmpdir(), 'heygen-avatar-wp-'));
  chmodSync(dir, 0o755);
  const site = join(dir, 'site');
  const url = `http://127.0.0.1:${port}`;
  let db: { socket: string; proc: ChildProcess } | undefined;
  let server: ChildProcess | undefined;
  const close = async () => {
    if (server?.pid) {
      try {
        process.kill(-server.pid, 'SIGKILL'); // the server and its workers: its own process group
      } catch {
        // gone already
      }
    }
    if (db?.proc.exitCode === null) {
      db.proc.kill('SIGTERM');
      await new Promise((r) => db!.proc.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    db = await startMariaDb(dir);
    cpSync(WORDPRESS, site, { recursive: true, dereference: true });
    symlinkSync(PLUGIN_DIR, join(site, 'wp-content/plugins/heygen-avatar'));
    mkdirSync(join(site, 'wp-content/mu-plugins'), { recursive: true });
    writeFileSync(join(site, 'wp-content/mu-plugins/no-mail.php'), "<?php\nadd_filter( 'pre_wp_mail', '__return_false' );\n");
    // Apache's workers run as www-data: they read the site and write only the logs.
    mkdirSync(join(dir, 'logs'));
    for (const f of ['', 'php.log', 'debug.log']) {
      if (f) writeFileSync(join(dir, 'logs', f), '');
      chownSync(join(dir, 'logs', f), ...ids('www-data'));
    }
    const salt = () => randomBytes(24).toString('hex');
    writeFileSync(
      join(site, 'wp-config.php'),
      `<?php
define( 'DB_NAME', 'wp' );
define( 'DB_USER', 'wp' );
define( 'DB_PASSWORD', 'wp' );
define( 'DB_HOST', 'localhost:${db.socket}' );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );
$table_prefix = 'wp_';
define( 'WP_HOME', '${url}' );
define( 'WP_SITEURL', '${url}' );
define( 'DISABLE_WP_CRON', true );
define( 'WP_HTTP_BLOCK_EXTERNAL', true );
define( 'AUTOMATIC_UPDATER_DISABLED', true );
define( 'FS_METHOD', 'direct' );
define( 'WP_DEBUG', true );
define( 'WP_DEBUG_DISPLAY', false );
define( 'WP_DEBUG_LOG', '${join(dir, 'logs/debug.log')}' );
${['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT'].map((k) => `define( '${k}', '${salt()}' );`).join('\n')}
if ( ! defined( 'ABSPATH' ) ) {
	define( 'ABSPATH', __DIR__ . '/' );
}
require_once ABSPATH . 'wp-settings.php';
`,
    );
    const php = (code: string, installing = false): string => {
      const file = join(dir, `run-${randomBytes(4).toString('hex')}.php`);
      writeFileSync(
        file,
        `<?php
$_SERVER['HTTP_HOST'] = '127.0.0.1:${port}';
$_SERVER['REQUEST_URI'] = '/';
${installing ? "define( 'WP_INSTALLING', true );" : ''}
require '${site}/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
${installing ? '' : 'wp_set_current_user( 1 );'}
${code}
`,
      );
      try {
        return run('php', ['-d', 'display_errors=stderr', '-d', 'error_reporting=E_ALL & ~E_DEPRECATED', '-d', `error_log=${join(dir, 'logs/php.log')}`, file]);
      } finally {
        rmSync(file, { force: true });
      }
    };
    php(
      `wp_install( 'heygen-avatar test', 'admin', 'admin@example.invalid', false, '', 'admin-password' );
global $wp_rewrite;
$wp_rewrite->set_permalink_structure( '/%postname%/' );
switch_theme( 'twentytwentythree' );
$activated = activate_plugin( 'heygen-avatar/heygen-avatar.php' );
if ( is_wp_error( $activated ) ) { fwrite( STDERR, $activated->get_error_message() ); exit( 1 ); }
update_option( 'heygen_avatar_settings', json_decode( ${phpString(JSON.stringify(settings))}, true ) );
update_option( 'heygen_avatar_secrets', json_decode( ${phpString(JSON.stringify(secrets))}, true ), false );
wp_insert_post( array( 'post_type' => 'page', 'post_status' => 'publish', 'post_title' => 'Talk', 'post_name' => 'talk', 'post_content' => ${phpString(pageContent)} ) );
$wp_rewrite->flush_rules( false );`,
      true,
    );
    server = startApache(dir, site, port);
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${url}/wp-json/heygen-avatar/v1/healthz`)).ok) break;
      } catch {
        // not yet
      }
      if (i > 200 || server.exitCode !== null) throw new Error(`Apache did not start:\n${readLog(join(dir, 'logs/apache-error.log'))}`);
      await sleep(50);
    }
    return {
      url,
      dir,
      php: (code) => php(code),
      errors: () => {
        const read = (f: string) => {
          try {
            return readFileSync(join(dir, f), 'utf8').split('\n');
          } catch {
            return [];
          }
        };
        return [...read('logs/php.log'), ...read('logs/debug.log')].filter((l) => l.trim() && !/PHP Deprecated|WordPress\.org/.test(l));
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** A system user's uid and gid. */
function ids(user: string): [number, number] {
  return [Number(run('id', ['-u', user]).trim()), Number(run('id', ['-g', user]).trim())];
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-3000);
  } catch {
    return '';
  }
}

/**
 * Apache in the foreground (its own process group) on 127.0.0.1:`port`, with mod_php and the
 * rewrite rules WordPress's .htaccess would hold (pretty links, /wp-json/, and the Authorization
 * header passed to PHP: Apache keeps it from scripts otherwise).
 */
function startApache(dir: string, site: string, port: number): ChildProcess {
  const modules = '/usr/lib/apache2/modules';
  const conf = join(dir, 'apache.conf');
  writeFileSync(
    conf,
    `ServerRoot /etc/apache2
ServerName 127.0.0.1
Listen 127.0.0.1:${port}
PidFile ${dir}/logs/apache.pid
Mutex file:${dir}/logs default
ErrorLog ${dir}/logs/apache-error.log
LogLevel warn
User www-data
Group www-data
LoadModule mpm_prefork_module ${modules}/mod_mpm_prefork.so
LoadModule authz_core_module ${modules}/mod_authz_core.so
LoadModule dir_module ${modules}/mod_dir.so
LoadModule mime_module ${modules}/mod_mime.so
LoadModule rewrite_module ${modules}/mod_rewrite.so
LoadModule php_module ${modules}/libphp8.2.so
StartServers 4
MinSpareServers 4
MaxRequestWorkers 12
TypesConfig /etc/mime.types
DocumentRoot ${site}
DirectoryIndex index.php
<FilesMatch "\\.php$">
  SetHandler application/x-httpd-php
</FilesMatch>
php_value output_buffering 0
php_value display_errors 0
php_value log_errors 1
php_value error_log ${dir}/logs/php.log
<Directory ${site}>
  Options FollowSymLinks
  AllowOverride None
  Require all granted
  RewriteEngine On
  RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]
  RewriteBase /
  RewriteRule ^index\\.php$ - [L]
  RewriteCond %{REQUEST_FILENAME} !-f
  RewriteCond %{REQUEST_FILENAME} !-d
  RewriteRule . /index.php [L]
</Directory>
`,
  );
  return spawn('/usr/sbin/apache2', ['-f', conf, '-DFOREGROUND'], { stdio: 'ignore', detached: true, env: { ...process.env, LANG: 'C' } });
}

/** A PHP single-quoted string literal. */
function phpString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
