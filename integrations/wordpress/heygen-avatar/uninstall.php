<?php
/**
 * Deleting the plugin removes everything it stored: its settings, its keys, its tables and its
 * cron event. (Sessions still open are stopped by their own limits at the avatar service.)
 */

defined( 'WP_UNINSTALL_PLUGIN' ) || exit;

global $wpdb;
delete_option( 'heygen_avatar_settings' );
delete_option( 'heygen_avatar_secrets' );
delete_option( 'heygen_avatar_db_version' );
wp_clear_scheduled_hook( 'heygen_avatar_reap' );
$wpdb->query( "DROP TABLE IF EXISTS {$wpdb->prefix}heygen_avatar_sessions, {$wpdb->prefix}heygen_avatar_buckets" ); // phpcs:ignore WordPress.DB
