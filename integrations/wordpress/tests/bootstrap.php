<?php
/**
 * Loads the plugin's WordPress-free classes with the few WordPress functions they call, as
 * WordPress defines them (JSON, URL parsing, the error log).
 */

define( 'ABSPATH', __DIR__ . '/' );

function wp_json_encode( $data, $flags = 0 ) {
	return json_encode( $data, $flags );
}

function wp_parse_url( $url, $component = -1 ) {
	return parse_url( $url, $component );
}

$plugin = dirname( __DIR__ ) . '/heygen-avatar/includes';
require_once "$plugin/class-http-error.php";
require_once "$plugin/class-contract.php";
require_once "$plugin/class-upstreams.php";
require_once "$plugin/class-llm.php";
