<?php
/**
 * Plugin Name:       HeyGen Avatar
 * Description:       A live, talking video avatar visitors speak with: the [heygen_avatar] shortcode and block, and the session endpoint that keeps your LiveAvatar/HeyGen, Deepgram and LLM keys on this server.
 * Version:           0.1.0
 * Requires at least: 6.1
 * Requires PHP:      8.2
 * License:           MIT
 * Text Domain:       heygen-avatar
 */

namespace HeygenAvatar;

defined( 'ABSPATH' ) || exit;

define( 'HEYGEN_AVATAR_VERSION', '0.1.0' );

require_once __DIR__ . '/includes/class-http-error.php';
require_once __DIR__ . '/includes/class-contract.php';
require_once __DIR__ . '/includes/class-upstreams.php';
require_once __DIR__ . '/includes/class-llm.php';
require_once __DIR__ . '/includes/class-store.php';
require_once __DIR__ . '/includes/class-settings.php';
require_once __DIR__ . '/includes/class-endpoint.php';
require_once __DIR__ . '/includes/class-embed.php';

/** The reaper's WP-Cron hook (every minute). */
const REAP_HOOK = 'heygen_avatar_reap';

function plugin(): array {
	static $parts = null;
	if ( null === $parts ) {
		global $wpdb;
		$settings = new Settings();
		$store    = new Store( $wpdb );
		$parts    = array(
			'settings' => $settings,
			'store'    => $store,
			'endpoint' => new Endpoint( $settings, $store ),
			'embed'    => new Embed( $settings, __FILE__ ),
		);
	}
	return $parts;
}

add_filter(
	'cron_schedules',
	static function ( array $schedules ): array {
		$schedules['heygen_avatar_minute'] = array( 'interval' => 60, 'display' => 'Every minute (HeyGen Avatar reaper)' );
		return $schedules;
	}
);
add_action( REAP_HOOK, static fn () => plugin()['endpoint']->reap() );

register_activation_hook(
	__FILE__,
	static function () {
		plugin()['store']->install();
		if ( ! wp_next_scheduled( REAP_HOOK ) ) {
			wp_schedule_event( time() + 60, 'heygen_avatar_minute', REAP_HOOK );
		}
	}
);
register_deactivation_hook( __FILE__, static fn () => wp_clear_scheduled_hook( REAP_HOOK ) );

add_action(
	'plugins_loaded',
	static function () {
		if ( get_option( 'heygen_avatar_db_version' ) !== Store::DB_VERSION ) {
			plugin()['store']->install();
		}
		plugin()['settings']->hooks();
		plugin()['endpoint']->hooks();
		plugin()['embed']->hooks();
	}
);
