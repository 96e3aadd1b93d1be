<?php
/**
 * The widget on a page: the `[heygen_avatar]` shortcode and the “HeyGen Avatar” block both print
 * `<heygen-avatar token-endpoint="…">` with the settings' attributes (a page may override the
 * harmless ones), and load the widget's script, bundled in the plugin (widget/heygen-avatar.js,
 * its chunks beside it): nothing comes from a CDN.
 */

namespace HeygenAvatar;

defined( 'ABSPATH' ) || exit;

final class Embed {
	const HANDLE = 'heygen-avatar';
	/** Element attributes a shortcode or block may set (the widget's documented attributes). */
	const ATTRIBUTES = array( 'avatar-id', 'voice-id', 'voice-rate', 'quality', 'language', 'greeting', 'layout', 'poster', 'stt-model', 'endpointing', 'utterance-end-ms' );
	/** Boolean attributes: present when set to 1/true/yes. */
	const SWITCHES = array( 'no-captions', 'no-text-input', 'no-barge-in', 'no-preemptive', 'push-to-talk' );

	public function __construct( private readonly Settings $settings, private readonly string $plugin_file ) {}

	public function hooks(): void {
		add_shortcode( 'heygen_avatar', array( $this, 'shortcode' ) );
		add_action( 'init', array( $this, 'register' ) );
		add_filter( 'script_loader_tag', array( $this, 'module_tag' ), 10, 2 );
	}

	public function register(): void {
		// In the footer: the element is in the page by then, and a module runs after parsing anyway.
		wp_register_script( self::HANDLE, plugins_url( 'widget/heygen-avatar.js', $this->plugin_file ), array(), HEYGEN_AVATAR_VERSION, true );
		register_block_type( dirname( $this->plugin_file ) . '/blocks/avatar', array( 'render_callback' => array( $this, 'block' ) ) );
	}

	/** The widget is an ES module (it loads its chunks with import()). */
	public function module_tag( string $tag, string $handle ): string {
		return self::HANDLE === $handle ? str_replace( '<script ', '<script type="module" ', $tag ) : $tag;
	}

	/** `[heygen_avatar greeting="Hi!" layout="floating"]` */
	public function shortcode( $atts ): string {
		return $this->element( is_array( $atts ) ? $atts : array() );
	}

	/** The block's attributes are the element's, camelCased (`avatarId`). */
	public function block( array $attributes ): string {
		$atts = array();
		foreach ( $attributes as $key => $value ) {
			$atts[ strtolower( preg_replace( '/[A-Z]/', '-$0', $key ) ) ] = is_bool( $value ) ? ( $value ? '1' : '' ) : (string) $value;
		}
		return $this->element( $atts );
	}

	/** `<heygen-avatar>` with the settings' defaults, then the page's own attributes. */
	public function element( array $atts ): string {
		wp_enqueue_script( self::HANDLE );
		$attributes = array(
			'token-endpoint' => rest_url( Endpoint::NAMESPACE . '/session' ),
			'language'       => $this->settings->language(),
			'greeting'       => $this->settings->get( 'greeting' ),
			'quality'        => $this->settings->get( 'quality' ),
		);
		foreach ( $atts as $key => $value ) {
			// `[heygen_avatar no-captions]`: WordPress passes a bare word as a value with a numeric key.
			if ( is_int( $key ) ) {
				[ $key, $value ] = array( (string) $value, '1' );
			}
			$key   = str_replace( '_', '-', strtolower( (string) $key ) );
			$value = (string) $value;
			if ( in_array( $key, self::ATTRIBUTES, true ) && '' !== $value ) {
				$attributes[ $key ] = $value;
			} elseif ( in_array( $key, self::SWITCHES, true ) && in_array( strtolower( $value ), array( '1', 'true', 'yes', 'on' ), true ) ) {
				$attributes[ $key ] = true;
			}
		}
		$html = '<heygen-avatar';
		foreach ( $attributes as $key => $value ) {
			if ( true === $value ) {
				$html .= ' ' . esc_attr( $key );
			} elseif ( '' !== $value ) {
				$html .= sprintf( ' %s="%s"', esc_attr( $key ), esc_attr( $value ) );
			}
		}
		return $html . '></heygen-avatar>';
	}
}
