<?php
/**
 * The plugin's settings (Settings → HeyGen Avatar): what a site editor chooses, in the option
 * `heygen_avatar_settings`, and the API keys apart in `heygen_avatar_secrets` (not autoloaded).
 * A key field is always rendered empty: a stored key is never printed back into a page, only
 * "stored"; leaving the field empty keeps it, ticking "remove" deletes it.
 */

namespace HeygenAvatar;

defined( 'ABSPATH' ) || exit;

final class Settings {
	const OPTION  = 'heygen_avatar_settings';
	const SECRETS = 'heygen_avatar_secrets';
	const PAGE    = 'heygen-avatar';

	const SECRET_FIELDS = array(
		'liveavatar_api_key' => 'LiveAvatar API key',
		'heygen_api_key'     => 'HeyGen API key',
		'deepgram_api_key'   => 'Deepgram API key',
		'llm_api_key'        => 'LLM API key (Gemini or OpenAI)',
	);

	const DEFAULTS = array(
		'provider'                 => 'liveavatar',
		'liveavatar_sandbox'       => '0',
		'avatar_ids'               => '',
		'voice_id'                 => '',
		'language'                 => '',
		'greeting'                 => '',
		'quality'                  => 'medium',
		'llm_provider'             => 'gemini',
		'llm_model'                => '',
		'system_prompt'            => '',
		'allowed_origins'          => '',
		'max_sessions'             => '10',
		'max_sessions_per_client'  => '2',
		'max_session_seconds'      => '600',
		'abandon_after_seconds'    => '60',
		'rate_sessions_per_minute' => '10',
		'rate_sessions_burst'      => '5',
		'rate_llm_per_minute'      => '60',
		'rate_llm_burst'           => '20',
		'client_ip_header'         => '',
		'liveavatar_api_base'      => 'https://api.liveavatar.com',
		'heygen_api_base'          => 'https://api.heygen.com',
		'deepgram_api_base'        => 'https://api.deepgram.com',
		'llm_api_base'             => '',
	);

	/** @var array<string, string>|null */
	private ?array $values = null;
	private ?Http $http    = null;

	public function get( string $key ): string {
		$this->values ??= array_merge( self::DEFAULTS, array_intersect_key( (array) get_option( self::OPTION, array() ), self::DEFAULTS ) );
		return (string) $this->values[ $key ];
	}

	private function secret( string $key ): string {
		return (string) ( ( (array) get_option( self::SECRETS, array() ) )[ $key ] ?? '' );
	}

	private static function list( string $value ): array {
		return array_values( array_filter( array_map( 'trim', preg_split( '/[\s,]+/', $value ) ) ) );
	}

	/** Origins besides the site's own that may embed the widget (`*`: any). */
	public function allowed_origins(): array {
		return array_map( static fn ( $o ) => '*' === $o ? '*' : rtrim( strtolower( $o ), '/' ), self::list( $this->get( 'allowed_origins' ) ) );
	}

	/** What a session request may ask for. */
	public function offer(): array {
		$avatars = self::list( $this->get( 'avatar_ids' ) );
		if ( ! $avatars && 'liveavatar' === $this->get( 'provider' ) && '1' === $this->get( 'liveavatar_sandbox' ) ) {
			$avatars = array( LiveAvatarService::SANDBOX_AVATAR_ID );
		}
		return array(
			'avatar_ids'       => $avatars,
			'voice_ids'        => self::list( $this->get( 'voice_id' ) ),
			'languages'        => Contract::LANGUAGES,
			'default_language' => $this->language(),
			'quality'          => $this->get( 'quality' ),
		);
	}

	/** The conversation's language: the setting, else the site's (`de_DE` → `de`), else English. */
	public function language(): string {
		$language = $this->get( 'language' );
		if ( '' === $language ) {
			$language = strtolower( explode( '_', (string) get_locale() )[0] );
		}
		return Contract::language_allowed( $language, Contract::LANGUAGES ) ? $language : 'en';
	}

	public function caps(): array {
		return array(
			'max_sessions'            => max( 1, (int) $this->get( 'max_sessions' ) ),
			'max_sessions_per_client' => max( 1, (int) $this->get( 'max_sessions_per_client' ) ),
			'max_session_seconds'     => max( 10, (int) $this->get( 'max_session_seconds' ) ),
			'idle_timeout_seconds'    => 120,
			'abandon_after_seconds'   => max( 10, (int) $this->get( 'abandon_after_seconds' ) ),
		);
	}

	/** `[per minute, burst]` of `session`, `llm` or `stt` (per session). */
	public function rate( string $kind ): array {
		if ( 'stt' === $kind ) {
			return array( 30.0, 10 );
		}
		$prefix = 'session' === $kind ? 'rate_sessions' : 'rate_llm';
		return array( max( 0.1, (float) $this->get( "{$prefix}_per_minute" ) ), max( 1, (int) $this->get( "{$prefix}_burst" ) ) );
	}

	public function http(): Http {
		return $this->http ??= new Http( null, array_values( array_filter( array_map( fn ( $k ) => $this->secret( $k ), array_keys( self::SECRET_FIELDS ) ) ) ) );
	}

	/** A message with every stored key replaced. */
	public function redact( string $text ): string {
		foreach ( array_keys( self::SECRET_FIELDS ) as $key ) {
			$secret = $this->secret( $key );
			if ( '' !== $secret ) {
				$text = str_replace( $secret, '[redacted]', $text );
			}
		}
		return $text;
	}

	/** The avatar service of `$provider` (default: the configured one). */
	public function avatar_service( ?string $provider = null ): AvatarService {
		$provider ??= $this->get( 'provider' );
		if ( 'heygen-streaming' === $provider ) {
			return new HeygenStreamingService( $this->http(), $this->required_secret( 'heygen_api_key' ), rtrim( $this->get( 'heygen_api_base' ), '/' ) );
		}
		return new LiveAvatarService( $this->http(), $this->required_secret( 'liveavatar_api_key' ), rtrim( $this->get( 'liveavatar_api_base' ), '/' ), '1' === $this->get( 'liveavatar_sandbox' ) );
	}

	public function deepgram(): DeepgramGrants {
		return new DeepgramGrants( $this->http(), $this->required_secret( 'deepgram_api_key' ), rtrim( $this->get( 'deepgram_api_base' ), '/' ) );
	}

	private function required_secret( string $key ): string {
		$secret = $this->secret( $key );
		if ( '' === $secret ) {
			error_log( 'heygen-avatar: the ' . self::SECRET_FIELDS[ $key ] . ' is not set (Settings → HeyGen Avatar)' ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions
			throw new HttpError( 'internal_error', 'the avatar endpoint is not configured yet', 30 );
		}
		return $secret;
	}

	public function llm_enabled(): bool {
		return 'none' !== $this->get( 'llm_provider' ) && '' !== $this->secret( 'llm_api_key' );
	}

	public function llm(): array {
		$gemini = 'gemini' === $this->get( 'llm_provider' );
		$base   = $this->get( 'llm_api_base' );
		$model  = $this->get( 'llm_model' );
		return array(
			'provider'      => $gemini ? 'gemini' : 'openai',
			'api_key'       => $this->secret( 'llm_api_key' ),
			'api_base'      => rtrim( '' !== $base ? $base : ( $gemini ? 'https://generativelanguage.googleapis.com' : 'https://api.openai.com' ), '/' ),
			'model'         => '' !== $model ? $model : ( $gemini ? 'gemini-2.5-flash' : 'gpt-4o-mini' ),
			'system_prompt' => $this->get( 'system_prompt' ),
		);
	}

	// ---- the settings page ------------------------------------------------------------------

	public function hooks(): void {
		add_action( 'admin_menu', array( $this, 'menu' ) );
		add_action( 'admin_init', array( $this, 'register' ) );
	}

	public function menu(): void {
		add_options_page( 'HeyGen Avatar', 'HeyGen Avatar', 'manage_options', self::PAGE, array( $this, 'render' ) );
	}

	public function register(): void {
		register_setting( self::PAGE, self::OPTION, array( 'type' => 'array', 'sanitize_callback' => array( $this, 'sanitize' ), 'show_in_rest' => false ) );
		register_setting( self::PAGE, self::SECRETS, array( 'type' => 'array', 'sanitize_callback' => array( $this, 'sanitize_secrets' ), 'show_in_rest' => false ) );
	}

	/** Keeps only known fields, as trimmed text; numbers as whole numbers. */
	public function sanitize( $input ): array {
		$out = array();
		foreach ( self::DEFAULTS as $key => $default ) {
			$value = isset( $input[ $key ] ) ? (string) wp_unslash( $input[ $key ] ) : ( in_array( $key, array( 'liveavatar_sandbox' ), true ) ? '0' : $default );
			$value = in_array( $key, array( 'system_prompt', 'allowed_origins', 'avatar_ids' ), true ) ? sanitize_textarea_field( $value ) : sanitize_text_field( $value );
			if ( is_numeric( $default ) ) {
				$value = (string) max( 0, (int) $value );
			}
			$out[ $key ] = $value;
		}
		$out['provider']     = in_array( $out['provider'], array( 'liveavatar', 'heygen-streaming' ), true ) ? $out['provider'] : 'liveavatar';
		$out['llm_provider'] = in_array( $out['llm_provider'], array( 'gemini', 'openai', 'none' ), true ) ? $out['llm_provider'] : 'gemini';
		$out['quality']      = in_array( $out['quality'], Contract::QUALITIES, true ) ? $out['quality'] : 'medium';
		$this->values        = null;
		return $out;
	}

	/** An empty field keeps the stored key; "remove" deletes it. Keys are never sent back to the page. */
	public function sanitize_secrets( $input ): array {
		$stored = (array) get_option( self::SECRETS, array() );
		$out    = array();
		foreach ( array_keys( self::SECRET_FIELDS ) as $key ) {
			$given = isset( $input[ $key ] ) ? trim( (string) wp_unslash( $input[ $key ] ) ) : '';
			if ( ! empty( $input[ "{$key}_remove" ] ) ) {
				continue;
			}
			$value = '' !== $given ? $given : ( $stored[ $key ] ?? '' );
			if ( '' !== $value ) {
				$out[ $key ] = $value;
			}
		}
		return $out;
	}

	public function render(): void {
		if ( ! current_user_can( 'manage_options' ) ) {
			return;
		}
		$secrets = (array) get_option( self::SECRETS, array() );
		$field   = fn ( string $key ) => esc_attr( $this->get( $key ) );
		$name    = static fn ( string $key ) => esc_attr( self::OPTION . "[$key]" );
		?>
		<div class="wrap">
			<h1>HeyGen Avatar</h1>
			<p>A live, talking avatar on your pages: put <code>[heygen_avatar]</code> (or the “HeyGen Avatar” block) on a page. Visitors talk into the microphone; the avatar answers out loud.
			Your API keys stay on this server: the browser only ever gets short-lived keys for one session.</p>
			<form method="post" action="options.php">
				<?php settings_fields( self::PAGE ); ?>
				<h2>Services and keys</h2>
				<table class="form-table" role="presentation">
					<tr><th scope="row"><label for="ha-provider">Avatar service</label></th><td>
						<select id="ha-provider" name="<?php echo $name( 'provider' ); // phpcs:ignore ?>">
							<option value="liveavatar" <?php selected( $this->get( 'provider' ), 'liveavatar' ); ?>>LiveAvatar (app.liveavatar.com; new accounts)</option>
							<option value="heygen-streaming" <?php selected( $this->get( 'provider' ), 'heygen-streaming' ); ?>>HeyGen streaming (older accounts)</option>
						</select>
						<label><input type="checkbox" name="<?php echo $name( 'liveavatar_sandbox' ); // phpcs:ignore ?>" value="1" <?php checked( $this->get( 'liveavatar_sandbox' ), '1' ); ?>> LiveAvatar sandbox (free, about a minute per session, avatar “Wayne” only)</label>
					</td></tr>
					<?php foreach ( self::SECRET_FIELDS as $key => $label ) : ?>
					<tr><th scope="row"><label for="ha-<?php echo esc_attr( $key ); ?>"><?php echo esc_html( $label ); ?></label></th><td>
						<input type="password" autocomplete="off" class="regular-text" id="ha-<?php echo esc_attr( $key ); ?>" name="<?php echo esc_attr( self::SECRETS . "[$key]" ); ?>" value=""
							placeholder="<?php echo ! empty( $secrets[ $key ] ) ? esc_attr__( 'stored — leave empty to keep it', 'heygen-avatar' ) : esc_attr__( 'not set', 'heygen-avatar' ); ?>">
						<?php if ( ! empty( $secrets[ $key ] ) ) : ?>
							<label><input type="checkbox" name="<?php echo esc_attr( self::SECRETS . "[{$key}_remove]" ); ?>" value="1"> remove</label>
						<?php endif; ?>
					</td></tr>
					<?php endforeach; ?>
					<tr><th scope="row"><label for="ha-llm">Language model</label></th><td>
						<select id="ha-llm" name="<?php echo $name( 'llm_provider' ); // phpcs:ignore ?>">
							<option value="gemini" <?php selected( $this->get( 'llm_provider' ), 'gemini' ); ?>>Gemini</option>
							<option value="openai" <?php selected( $this->get( 'llm_provider' ), 'openai' ); ?>>OpenAI (or a compatible server)</option>
							<option value="none" <?php selected( $this->get( 'llm_provider' ), 'none' ); ?>>none (the page brings its own)</option>
						</select>
						<input type="text" class="regular-text" name="<?php echo $name( 'llm_model' ); // phpcs:ignore ?>" value="<?php echo $field( 'llm_model' ); // phpcs:ignore ?>" placeholder="model (default gemini-2.5-flash / gpt-4o-mini)">
					</td></tr>
					<tr><th scope="row"><label for="ha-prompt">Instructions for the avatar</label></th><td>
						<textarea id="ha-prompt" class="large-text" rows="4" name="<?php echo $name( 'system_prompt' ); // phpcs:ignore ?>"><?php echo esc_textarea( $this->get( 'system_prompt' ) ); ?></textarea>
						<p class="description">The system prompt: who the avatar is, what it may talk about.</p>
					</td></tr>
				</table>
				<h2>The avatar</h2>
				<table class="form-table" role="presentation">
					<?php $this->text_rows( 'avatar' ); ?>
				</table>
				<h2>Who may use it, and how much</h2>
				<table class="form-table" role="presentation">
					<?php $this->text_rows( 'limits' ); ?>
				</table>
				<h2>Advanced: service addresses</h2>
				<table class="form-table" role="presentation">
					<?php $this->text_rows( 'advanced' ); ?>
				</table>
				<?php submit_button(); ?>
			</form>
			<p>Session endpoint: <code><?php echo esc_html( rest_url( Endpoint::NAMESPACE . '/session' ) ); ?></code>. Check it with <code>npx heygen-avatar-conformance &lt;that URL&gt;</code>.</p>
		</div>
		<?php
	}

	/** The form's text fields, by section: option key => [label, help]. */
	const TEXT_FIELDS = array(
		'avatar'   => array(
			'avatar_ids' => array( 'Avatar id(s)', 'From your avatar service (LiveAvatar: a UUID). Several, separated by commas: the first is the default, the others may be chosen per page.' ),
			'voice_id'   => array( 'Voice id(s)', 'Optional; empty: the avatar’s own voice.' ),
			'language'   => array( 'Language', 'BCP-47, e.g. en, de, ru. Empty: the site’s language.' ),
			'greeting'   => array( 'Greeting', 'What the avatar says first.' ),
		),
		'limits'   => array(
			'allowed_origins'          => array( 'Other sites allowed', 'This site is always allowed. Other sites that embed the widget with this endpoint: https://shop.example, one per line or comma.' ),
			'max_sessions'             => array( 'Sessions at once', 'Avatar minutes cost money: at most this many sessions run at the same time.' ),
			'max_sessions_per_client'  => array( 'Sessions at once per visitor', '' ),
			'max_session_seconds'      => array( 'Longest session (seconds)', '' ),
			'abandon_after_seconds'    => array( 'Stop a silent session after (seconds)', 'A tab closed or crashed: its session is stopped after this long without a sign of life.' ),
			'rate_sessions_per_minute' => array( 'New sessions per visitor per minute', '' ),
			'rate_sessions_burst'      => array( '… at once (burst)', '' ),
			'rate_llm_per_minute'      => array( 'Answers per visitor per minute', '' ),
			'rate_llm_burst'           => array( '… at once (burst)', '' ),
			'client_ip_header'         => array( 'Visitor address header', 'Only behind a proxy or CDN you trust: the header with the visitor’s address (X-Forwarded-For, CF-Connecting-IP). Empty: the connection’s address.' ),
		),
		'advanced' => array(
			'liveavatar_api_base' => array( 'LiveAvatar API', '' ),
			'heygen_api_base'     => array( 'HeyGen API', '' ),
			'deepgram_api_base'   => array( 'Deepgram API', '' ),
			'llm_api_base'        => array( 'LLM API', 'Empty: Gemini’s or OpenAI’s.' ),
		),
	);

	private function text_rows( string $section ): void {
		foreach ( self::TEXT_FIELDS[ $section ] as $key => [ $label, $help ] ) {
			$this->text_row( $key, $label, $help );
		}
	}

	private function text_row( string $key, string $label, string $help ): void {
		printf(
			'<tr><th scope="row"><label for="ha-%1$s">%2$s</label></th><td><input type="text" class="regular-text" id="ha-%1$s" name="%3$s" value="%4$s">%5$s</td></tr>',
			esc_attr( $key ),
			esc_html( $label ),
			esc_attr( self::OPTION . "[$key]" ),
			esc_attr( $this->get( $key ) ),
			'' !== $help ? '<p class="description">' . esc_html( $help ) . '</p>' : ''
		);
	}
}
