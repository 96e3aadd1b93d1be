<?php
/**
 * The services behind the endpoint, called with the account keys that never leave this server:
 * LiveAvatar (FULL mode, no context) or HeyGen's streaming API for the avatar, Deepgram for
 * temporary STT tokens. Each call fails as an HttpError with the contract's upstream codes; what
 * the service said goes to the PHP error log, with every key removed, never to the browser.
 */

namespace HeygenAvatar;

defined( 'ABSPATH' ) || exit;

/**
 * One HTTP call: `(method, url, headers, ?body, timeout seconds) → {status, body, headers}`;
 * status 0 with `error` set when the service could not be reached.
 *
 * @phpstan-type Answer array{status: int, body: string, headers: array<string, string>, error?: string, timed_out?: bool}
 */
final class Http {
	/** @var callable */
	private $send;

	public function __construct( ?callable $send = null, private readonly array $secrets = array() ) {
		$this->send = $send ?? array( self::class, 'wp_send' );
	}

	/** Sends with the WordPress HTTP API. */
	public static function wp_send( string $method, string $url, array $headers, ?string $body, int $timeout ): array {
		$res = wp_remote_request(
			$url,
			array(
				'method'      => $method,
				'headers'     => $headers,
				'body'        => $body,
				'timeout'     => $timeout,
				'redirection' => 0,
			)
		);
		if ( is_wp_error( $res ) ) {
			$message = $res->get_error_message();
			return array( 'status' => 0, 'body' => '', 'headers' => array(), 'error' => $message, 'timed_out' => (bool) preg_match( '/timed out|timeout/i', $message ) );
		}
		$headers = array();
		foreach ( wp_remote_retrieve_headers( $res ) as $k => $v ) {
			$headers[ strtolower( $k ) ] = is_array( $v ) ? implode( ', ', $v ) : (string) $v;
		}
		return array( 'status' => (int) wp_remote_retrieve_response_code( $res ), 'body' => (string) wp_remote_retrieve_body( $res ), 'headers' => $headers );
	}

	/**
	 * A JSON call; resolves with the decoded answer of a 2xx. Throws UpstreamFailure for an HTTP
	 * error (the caller decides what it means), HttpError when unreachable or unreadable.
	 */
	public function json( string $service, string $operation, string $method, string $url, array $headers, array|object|null $body, int $timeout = 10 ): mixed {
		$a = ( $this->send )( $method, $url, $headers + array( 'content-type' => 'application/json', 'accept' => 'application/json' ), null === $body ? null : wp_json_encode( $body ), $timeout );
		if ( 0 === $a['status'] ) {
			$this->log( $service, $operation, 0, $a['error'] ?? 'unreachable' );
			throw ! empty( $a['timed_out'] )
				? new HttpError( 'upstream_timeout', "the $service service did not answer in time", 5 )
				: new HttpError( 'upstream_error', "the $service service could not be reached" );
		}
		$json = json_decode( $a['body'], true );
		if ( $a['status'] < 200 || $a['status'] > 299 ) {
			$this->log( $service, $operation, $a['status'], $a['body'] );
			throw new UpstreamFailure( $service, $a['status'], is_array( $json ) ? ( $json['code'] ?? $json['error']['code'] ?? null ) : null, self::retry_after( $a['headers']['retry-after'] ?? null ) );
		}
		if ( ! is_array( $json ) ) {
			$this->log( $service, $operation, $a['status'], 'not JSON: ' . substr( $a['body'], 0, 200 ) );
			throw new HttpError( 'upstream_error', "the $service service answered something unreadable" );
		}
		return $json;
	}

	/** Logs what a service said, without any key. */
	public function log( string $service, string $operation, int $status, string $detail ): void {
		$line = sprintf( 'heygen-avatar: %s %s failed (HTTP %d): %s', $service, $operation, $status, substr( $detail, 0, 300 ) );
		foreach ( $this->secrets as $secret ) {
			if ( $secret ) {
				$line = str_replace( $secret, '[redacted]', $line );
			}
		}
		error_log( $line ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions
	}

	public static function retry_after( ?string $value ): ?int {
		return null !== $value && is_numeric( $value ) ? max( 1, (int) ceil( (float) $value ) ) : null;
	}
}

/** A service answered an HTTP error; `to_http()` is what the browser hears. */
final class UpstreamFailure extends \RuntimeException {
	public function __construct( public readonly string $service, public readonly int $status, public readonly mixed $upstream_code, public readonly ?int $retry_after ) {
		parent::__construct( "$service answered HTTP $status" );
	}

	public function to_http(): HttpError {
		if ( 401 === $this->status || 403 === $this->status ) {
			return new HttpError( 'upstream_unauthorized', "the {$this->service} service refused this site's key" );
		}
		if ( 429 === $this->status ) {
			return new HttpError( 'upstream_rate_limited', "the {$this->service} service is rate limiting this site; try again shortly", $this->retry_after ?? 5 );
		}
		return new HttpError( 'upstream_error', "the {$this->service} service failed", $this->status >= 500 ? 2 : null );
	}
}

/** An avatar service: creates, stops and keeps alive sessions with the account key. */
interface AvatarService {
	/** `liveavatar` or `heygen-streaming`: the answer's `avatar.provider`. */
	public function provider(): string;

	/**
	 * @param array{avatarId: string, quality: string, voiceId: ?string, voiceRate: float, language: string} $params
	 * @return array{session_id: string, access: array, duration_limit: ?int}
	 * @throws OrphanedSession when the session was made but cannot be used (stop it)
	 */
	public function create( array $params, int $max_session_seconds, int $idle_timeout_seconds ): array;

	/** `stopped`, or `already_closed` when the service says it is closed or unknown; throws on failure. */
	public function stop( string $session_id, string $reason ): string;
}

/** The service created a session and then something failed: it must be stopped. */
final class OrphanedSession extends \RuntimeException {
	public function __construct( public readonly string $session_id, public readonly \Throwable $failure ) {
		parent::__construct( $failure->getMessage(), 0, $failure );
	}
}

/** LiveAvatar (api.liveavatar.com), FULL mode without a context: the avatar says only what the widget sends. */
final class LiveAvatarService implements AvatarService {
	const SANDBOX_AVATAR_ID = 'dd73ea75-1218-4ef3-92ce-606d5f7fbc0a';
	const SANDBOX_SECONDS   = 60;
	/** The contract's stop reasons as LiveAvatar's (docs/broker.md, "Adding an avatar service"). */
	const STOP_REASONS = array(
		'client_closed'  => 'USER_CLOSED',
		'client_gone'    => 'USER_DISCONNECTED',
		'abandoned'      => 'ZOMBIE_SESSION_REAP',
		'stop_retry'     => 'ZOMBIE_SESSION_REAP',
		'duration_limit' => 'MAX_DURATION_REACHED',
		'create_failed'  => 'SERVER_ERROR',
	);

	public function __construct( private readonly Http $http, private readonly string $api_key, private readonly string $api_base, private readonly bool $sandbox ) {}

	public function provider(): string {
		return 'liveavatar';
	}

	/** One call with the account key; resolves with the envelope's data. Throws UpstreamFailure for HTTP errors. */
	private function call( string $operation, string $path, array $body ): mixed {
		$json = $this->http->json( 'LiveAvatar', $operation, 'POST', $this->api_base . $path, array( 'x-api-key' => $this->api_key ), $body );
		// Only envelope code 1000 is success (the official client's rule).
		if ( 1000 !== ( $json['code'] ?? null ) ) {
			$this->http->log( 'LiveAvatar', $operation, 200, 'envelope code ' . wp_json_encode( $json['code'] ?? null ) );
			throw new HttpError( 'upstream_error', 'the LiveAvatar service answered something unreadable' );
		}
		return $json['data'] ?? null;
	}

	public function create( array $params, int $max_session_seconds, int $idle_timeout_seconds ): array {
		$persona = array( 'language' => strtolower( explode( '-', $params['language'] )[0] ) );
		if ( $params['voiceId'] ) {
			$persona['voice_id'] = $params['voiceId'];
		}
		try {
			$data = $this->call(
				'sessions.token',
				'/v1/sessions/token',
				array(
					'mode'                 => 'FULL',
					'avatar_id'            => $params['avatarId'],
					'avatar_persona'       => $persona,
					'video_settings'       => array( 'quality' => $params['quality'], 'encoding' => 'VP8' ),
					'max_session_duration' => $max_session_seconds,
					'is_sandbox'           => $this->sandbox,
				)
			);
		} catch ( UpstreamFailure $e ) {
			throw $e->to_http();
		}
		$id    = is_array( $data ) ? ( $data['session_id'] ?? null ) : null;
		$token = is_array( $data ) ? ( $data['session_token'] ?? null ) : null;
		if ( ! is_string( $id ) || '' === $id ) {
			throw new HttpError( 'upstream_error', 'the LiveAvatar service answered no session' );
		}
		if ( ! is_string( $token ) || 3 !== count( explode( '.', $token ) ) ) {
			throw new OrphanedSession( $id, new HttpError( 'upstream_error', 'the LiveAvatar service answered no session token' ) );
		}
		return array(
			'session_id'     => $id,
			'access'         => array( 'provider' => 'liveavatar', 'apiBase' => $this->api_base, 'token' => $token ),
			'duration_limit' => $this->sandbox ? self::SANDBOX_SECONDS : null,
		);
	}

	public function stop( string $session_id, string $reason ): string {
		try {
			$this->call( 'sessions.stop', '/v1/sessions/stop', array( 'session_id' => $session_id, 'reason' => self::STOP_REASONS[ $reason ] ?? 'UNKNOWN' ) );
			return 'stopped';
		} catch ( UpstreamFailure $e ) {
			// LiveAvatar's stop is idempotent (a session that ended answers success too); one it does
			// not know (404) is as good as closed.
			if ( 404 === $e->status ) {
				return 'already_closed';
			}
			throw $e->to_http();
		}
	}
}

/** HeyGen's streaming avatar API (`/v1/streaming.*`, API v2): REST tasks, media over LiveKit. */
final class HeygenStreamingService implements AvatarService {
	public function __construct( private readonly Http $http, private readonly string $api_key, private readonly string $api_base ) {}

	public function provider(): string {
		return 'heygen-streaming';
	}

	/** One call; resolves with the `{code: 100, data}` envelope's data. */
	private function call( string $operation, array $auth, array|object $body ): array {
		try {
			$json = $this->http->json( 'HeyGen', $operation, 'POST', "{$this->api_base}/v1/$operation", $auth, $body );
		} catch ( UpstreamFailure $e ) {
			// 10004: the account's concurrent-session limit.
			if ( '10004' === (string) $e->upstream_code ) {
				throw new HttpError( 'upstream_over_capacity', 'every avatar session of this account is in use; try again in a minute', 30 );
			}
			throw $e;
		}
		if ( isset( $json['code'] ) && 100 !== $json['code'] ) {
			$this->http->log( 'HeyGen', $operation, 200, 'envelope code ' . wp_json_encode( $json['code'] ) );
			throw new HttpError( 'upstream_error', 'the HeyGen service answered something unreadable' );
		}
		return is_array( $json['data'] ?? null ) ? $json['data'] : array();
	}

	public function create( array $params, int $max_session_seconds, int $idle_timeout_seconds ): array {
		try {
			$token = $this->call( 'streaming.create_token', array( 'x-api-key' => $this->api_key ), new \stdClass() )['token'] ?? null;
			if ( ! is_string( $token ) || '' === $token ) {
				throw new HttpError( 'upstream_error', 'the HeyGen service answered no token' );
			}
			$voice = array( 'rate' => $params['voiceRate'] );
			if ( $params['voiceId'] ) {
				$voice['voice_id'] = $params['voiceId'];
			}
			// With the session-scoped token: the token the browser gets cannot create another session.
			$data = $this->call(
				'streaming.new',
				array( 'authorization' => "Bearer $token" ),
				array(
					'quality'               => $params['quality'],
					'avatar_id'             => $params['avatarId'],
					'voice'                 => $voice,
					'version'               => 'v2',
					'video_encoding'        => 'VP8',
					'language'              => $params['language'],
					'activity_idle_timeout' => $idle_timeout_seconds,
				)
			);
		} catch ( UpstreamFailure $e ) {
			throw $e->to_http();
		}
		$id = $data['session_id'] ?? null;
		if ( ! is_string( $id ) || '' === $id ) {
			throw new HttpError( 'upstream_error', 'the HeyGen service answered no session' );
		}
		if ( ! is_string( $data['url'] ?? null ) || ! is_string( $data['access_token'] ?? null ) ) {
			throw new OrphanedSession( $id, new HttpError( 'upstream_error', 'the HeyGen service answered no LiveKit room' ) );
		}
		$limit = $data['session_duration_limit'] ?? null;
		return array(
			'session_id'     => $id,
			'access'         => array( 'provider' => 'heygen-streaming', 'apiBase' => $this->api_base, 'token' => $token, 'livekit' => array( 'url' => $data['url'], 'token' => $data['access_token'] ) ),
			'duration_limit' => is_numeric( $limit ) && $limit > 0 ? (int) $limit : null,
		);
	}

	public function stop( string $session_id, string $reason ): string {
		try {
			$this->call( 'streaming.stop', array( 'x-api-key' => $this->api_key ), array( 'session_id' => $session_id ) );
			return 'stopped';
		} catch ( UpstreamFailure $e ) {
			// 10005: already closed; 10007: unknown. The browser often stops the session itself first.
			if ( 400 === $e->status && in_array( (string) $e->upstream_code, array( '10005', '10007' ), true ) ) {
				return 'already_closed';
			}
			throw $e->to_http();
		}
	}
}

/** Deepgram's temporary tokens (`/v1/auth/grant`): the only thing the Deepgram key is used for. */
final class DeepgramGrants {
	public function __construct( private readonly Http $http, private readonly string $api_key, private readonly string $api_base, private readonly int $ttl_seconds = 30 ) {}

	/** @return array{token: string, expires_in: int} */
	public function grant(): array {
		try {
			$json = $this->http->json( 'Deepgram', 'auth.grant', 'POST', "{$this->api_base}/v1/auth/grant", array( 'authorization' => "Token {$this->api_key}" ), array( 'ttl_seconds' => $this->ttl_seconds ) );
		} catch ( UpstreamFailure $e ) {
			throw $e->to_http();
		}
		if ( ! is_string( $json['access_token'] ?? null ) ) {
			throw new HttpError( 'upstream_error', 'the Deepgram service answered no token' );
		}
		return array( 'token' => $json['access_token'], 'expires_in' => (int) ( $json['expires_in'] ?? $this->ttl_seconds ) );
	}
}
