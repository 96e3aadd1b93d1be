// The WordPress plugin in a real WordPress (Debian's, MariaDB, PHP's built-in server) against the
// offline world: the conformance kit passes against its endpoint for both avatar services, a page
// with the shortcode holds a spoken conversation in Chromium, caps hold under concurrent requests,
// WP-Cron's reaper stops an abandoned session, keys never reach a page, uninstall leaves nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatResult, runConformance, startKitWorld, type WorldView } from '../../src/conformance/index.js';
import type { SessionResponse } from '../../src/shared/contract.js';
import { DEFAULT_AVATARS } from '../../src/offline/liveavatar/protocol.js';
import type { OfflineWorld } from '../../src/offline/world.js';
import { bundleWidget } from '../../scripts/wordpress-plugin.mjs';
import { startWordPress, type WordPressSite } from '../support/wordpress.js';

const PORT = 18880;
const KIT_ORIGIN = 'http://127.0.0.1:18790';
const LIVEAVATAR_AVATAR = DEFAULT_AVATARS.find((a) => a.name === 'Judy')!.id;

let world: OfflineWorld;
let view: WorldView;
let wp: WordPressSite;
let endpoint: string;

/** Changes some of the plugin's settings (the site reads them per request). */
function setSettings(patch: Record<string, string>): void {
  wp.php(`update_option( 'heygen_avatar_settings', array_merge( get_option( 'heygen_avatar_settings' ), json_decode( '${JSON.stringify(patch)}', true ) ) );`);
}

/** A session request from a page of the site, by the visitor `client` (the plugin reads it from X-Test-Client). */
const sessionRequest = (client: string) => ({ method: 'POST', headers: { origin: wp.url, 'content-type': 'application/json', 'x-test-client': client }, body: '{}' });

before(async () => {
  bundleWidget();
  ({ world, view } = await startKitWorld(18801));
  wp = await startWordPress(
    PORT,
    '<!-- wp:shortcode -->[heygen_avatar greeting="Hello from WordPress" no-text-input="1"]<!-- /wp:shortcode -->',
    {
      provider: 'liveavatar',
      avatar_ids: LIVEAVATAR_AVATAR,
      language: 'en',
      llm_provider: 'gemini',
      system_prompt: 'You are the shop assistant.',
      allowed_origins: KIT_ORIGIN,
      // The kit waits out the default rate (10 a minute, burst 5); a wider one keeps the test short.
      rate_sessions_per_minute: '60',
      rate_sessions_burst: '20',
      // Behind a proxy the plugin trusts this header; here, each test is its own visitor.
      client_ip_header: 'X-Test-Client',
      liveavatar_api_base: view.urls.liveavatar,
      heygen_api_base: view.urls.heygen,
      deepgram_api_base: view.urls.deepgram,
      llm_api_base: view.urls.llm,
    },
    { liveavatar_api_key: world.keys.liveavatar, heygen_api_key: world.keys.heygen, deepgram_api_key: world.keys.deepgram, llm_api_key: world.keys.gemini },
  );
  endpoint = `${wp.url}/wp-json/heygen-avatar/v1/session`;
});

after(async () => {
  await wp?.close();
  await world?.close();
});

describe('the WordPress plugin in a real WordPress', { timeout: 600_000 }, () => {
  it('the page with [heygen_avatar] carries the widget from the plugin itself and the element with the settings', async () => {
    const html = await (await fetch(`${wp.url}/talk/`)).text();
    assert.match(html, new RegExp(`<script type="module" src=['"]${wp.url}/wp-content/plugins/heygen-avatar/widget/heygen-avatar\\.js\\?ver=0\\.1\\.0['"]`));
    const element = html.match(/<heygen-avatar[^>]*>/)?.[0] ?? '';
    assert.equal(element, `<heygen-avatar token-endpoint="${wp.url}/wp-json/heygen-avatar/v1/session" language="en" greeting="Hello from WordPress" quality="medium" no-text-input>`);
    const bundle = await fetch(`${wp.url}/wp-content/plugins/heygen-avatar/widget/heygen-avatar.js`);
    assert.equal(bundle.status, 200);
    assert.match(bundle.headers.get('content-type') ?? '', /javascript/);
    // The block renders the same element.
    const block = wp.php(`echo do_blocks( '<!-- wp:heygen-avatar/avatar {"greeting":"Hi","layout":"floating"} /-->' );`);
    assert.match(block, /^<heygen-avatar token-endpoint="[^"]+" language="en" greeting="Hi" quality="medium" layout="floating"><\/heygen-avatar>$/);
  });

  for (const provider of ['liveavatar', 'heygen-streaming'] as const) {
    it(`the conformance kit passes against the plugin's endpoint (${provider}), the spoken conversation on the shortcode page included`, async () => {
      setSettings({ provider, avatar_ids: provider === 'liveavatar' ? LIVEAVATAR_AVATAR : 'Anna_public_3' });
      const t0 = Date.now();
      const results = await runConformance({ endpoint, origin: KIT_ORIGIN, world: view, browser: { page: `${wp.url}/talk/` } });
      const report = results.map(formatResult).join('\n');
      assert.deepEqual(results.filter((r) => r.status !== 'passed').map((r) => r.id), [], report);
      assert.equal(results.length, 17);
      console.log(`kit against WordPress (${provider}): ${results.length} checks in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      assert.equal(world.heygen.openSessions + world.liveavatar.openSessions, 0);
    });
  }

  it('caps hold when requests come at once (several Apache workers): exactly the per-client cap of sessions', async () => {
    setSettings({ max_sessions_per_client: '2' });
    const answers = await Promise.all(Array.from({ length: 8 }, () => fetch(endpoint, sessionRequest('caps')).then(async (r) => ({ status: r.status, json: await r.json() }))));
    const made = answers.filter((a) => a.status === 200).map((a) => a.json as SessionResponse);
    assert.equal(made.length, 2, JSON.stringify(answers.map((a) => a.status)));
    assert.ok(answers.filter((a) => a.status !== 200).every((a) => a.status === 429 && a.json.error.code === 'too_many_sessions'));
    for (const s of made) {
      const closed = await fetch(s.closeUrl, { method: 'POST', headers: { origin: wp.url, 'content-type': 'text/plain' }, body: JSON.stringify({ sessionId: s.sessionId, sessionKey: s.sessionKey }) });
      assert.equal(closed.status, 200);
    }
  });

  it('WP-Cron’s reaper stops a session whose page went silent', async () => {
    setSettings({ abandon_after_seconds: '10' });
    const s = (await (await fetch(endpoint, sessionRequest('reaper'))).json()) as SessionResponse;
    assert.equal(await view.isOpen(s.avatar.provider, s.sessionId), true);
    await sleep(10_500);
    // The cron event is due now (the site runs WP-Cron from a request, as a real cron job would).
    wp.php("wp_clear_scheduled_hook( 'heygen_avatar_reap' ); wp_schedule_event( time() - 1, 'heygen_avatar_minute', 'heygen_avatar_reap' );");
    await fetch(`${wp.url}/wp-cron.php`);
    for (let i = 0; i < 100 && (await view.isOpen(s.avatar.provider, s.sessionId)); i++) await sleep(100);
    assert.equal(await view.isOpen(s.avatar.provider, s.sessionId), false);
    // Its key is refused from then on, and the next run is scheduled a minute later.
    const beat = await fetch(s.heartbeat!.url, { method: 'POST', headers: { origin: wp.url, authorization: `Bearer ${s.sessionKey}` } });
    assert.equal(beat.status, 401);
    const next = Number(wp.php("echo wp_next_scheduled( 'heygen_avatar_reap' ) - time();"));
    assert.ok(next > 0 && next <= 60, String(next));
    setSettings({ abandon_after_seconds: '60' });
  });

  it('no key is printed into the settings page, the public page or the site’s answers; PHP logged no error', () => {
    const page = wp.php("ob_start(); HeygenAvatar\\plugin()['settings']->render(); echo ob_get_clean();");
    assert.match(page, /name="heygen_avatar_secrets\[deepgram_api_key\]" value=""/);
    assert.match(page, /stored — leave empty to keep it/);
    assert.match(page, /name="heygen_avatar_settings\[max_sessions_per_client\]" value="2"/);
    assert.match(page, /name="heygen_avatar_settings\[avatar_ids\]" value="Anna_public_3"/);
    for (const key of Object.values(world.keys)) assert.ok(!page.includes(key.slice(-12)), 'a key in the settings page');
    // Saving the form with empty key fields keeps the keys.
    const kept = wp.php(
      "$s = HeygenAvatar\\plugin()['settings']; echo json_encode( $s->sanitize_secrets( array( 'deepgram_api_key' => '', 'heygen_api_key_remove' => '1' ) ) );",
    );
    assert.deepEqual(Object.keys(JSON.parse(kept)).sort(), ['deepgram_api_key', 'liveavatar_api_key', 'llm_api_key']);
    assert.deepEqual(wp.errors().filter((l) => !/heygen-avatar: .* failed \(HTTP|stopping session/.test(l)), []);
  });

  it('uninstalling removes the options, the tables and the cron event', () => {
    const out = wp.php(`
      deactivate_plugins( 'heygen-avatar/heygen-avatar.php' );
      uninstall_plugin( 'heygen-avatar/heygen-avatar.php' );
      global $wpdb;
      echo json_encode( array(
        'options' => $wpdb->get_col( "SELECT option_name FROM {$wpdb->options} WHERE option_name LIKE 'heygen_avatar%'" ),
        'tables' => $wpdb->get_col( "SHOW TABLES LIKE '{$wpdb->prefix}heygen_avatar%'" ),
        'cron' => wp_next_scheduled( 'heygen_avatar_reap' ),
      ) );`);
    assert.deepEqual(JSON.parse(out), { options: [], tables: [], cron: false });
  });
});
