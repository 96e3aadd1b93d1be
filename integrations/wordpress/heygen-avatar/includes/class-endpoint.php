<?php
/**
 * The session endpoint as WordPress REST routes under `/wp-json/heygen-avatar/v1/`:
 * `POST session`, `POST session/stt-token`, `POST session/heartbeat`, `POST session/close`,
 * `POST llm` (SSE), `GET healthz` — the contract of docs/broker.md, answered here before
 * WordPress's own REST handling would reshape it (its error envelope, its JSON parsing, its CORS,
 * which grants any origin with credentials).
 */

namespace HeygenAvatar;

defined( 'ABSPATH' ) || exit;

final class Endpoint {
	const NAMESPACE = 'heygen-avatar/v1';
	/** How long a slot is held while the services are asked for a session (ms). */
	const PENDING_MS = 35000;
	/** How long one request or reaper pass may take to stop a session before another may (ms). */
	const STOP_LEASE_MS = 15000;
	/** A stop that keeps failing is given up after this many attempts (the service's own limits end it). */
	const MAX_STOP_ATTEMPTS = 10;

	public function __construct( private readonly Settings $settings, private readonly Store $store ) {}

	public function hooks(): void {
		add_action( 'rest_api_init', array( $this, 'register' ) );
		// Before WordPress answers OPTIONS and validates JSON itself (priority 10).
		add_filter( 'rest_pre_dispatch', array( $this, 'pre_dispatch' ), 9, 3 );
		// After rest_send_cors_headers (priority 10): only this request's CORS headers stay.
		add_filter( 'rest_pre_serve_request', array( $this, 'own_cors_headers' ), 11, 3 );
	}

	public function register(): void {
		foreach ( array( 'session', 'session/stt-token', 'session/heartbeat', 'session/close', 'llm', 'healthz' ) as $route ) {
			register_rest_route(
				self::NAMESPACE,
				'/' . $route,
				array(
					'methods'             => 'healthz' === $route ? 'GET' : 'POST',
					'callback'            => array( $this, 'handle' ),
					'permission_callback' => '__return_true', // the session key and the origin are checked in handle()
				)
			);
		}
	}

	/** Our routes are answered here, whatever the method. */
	public function pre_dispatch( $result, $server, \WP_REST_Request $request ) {
		if ( null !== $result || ! str_starts_with( $request->get_route(), '/' . self::NAMESPACE . '/' ) ) {
			return $result;
		}
		return $this->handle( $request );
	}

	public function own_cors_headers( $served, $result, $request ) {
		if ( $request instanceof \WP_REST_Request && str_starts_with( $request->get_route(), '/' . self::NAMESPACE . '/' ) && ! headers_sent() ) {
			foreach ( array( 'Access-Control-Allow-Origin', 'Access-Control-Allow-Credentials', 'Access-Control-Allow-Methods', 'Access-Control-Allow-Headers', 'Access-Control-Expose-Headers' ) as $name ) {
				header_remove( $name );
			}
			if ( $result instanceof \WP_HTTP_Response ) {
				foreach ( $result->get_headers() as $name => $value ) {
					if ( 0 === stripos( $name, 'access-control-' ) || 0 === strcasecmp( $name, 'vary' ) ) {
						header( "$name: $value" );
					}
				}
			}
		}
		return $served;
	}

	public function handle( \WP_REST_Request $request ): \WP_REST_Response {
		$route  = substr( $request->get_route(), strlen( '/' . self::NAMESPACE ) );
		$method = $request->get_method();
		$cors   = array( 'Vary' => 'Origin' );
		try {
			$routes = array(
				'/session'           => 'create_session',
				'/session/stt-token' => 'refresh_stt_token',
				'/session/heartbeat' => 'heartbeat',
				'/session/close'     => 'close_session',
				'/llm'               => 'llm',
				'/healthz'           => 'health',
			);
			$handler = $routes[ rtrim( $route, '/' ) ] ?? null;
			if ( null === $handler || ( 'llm' === $handler && ! $this->settings->llm_enabled() ) ) {
				throw new HttpError( 'not_found', 'no such route' );
			}
			if ( 'health' === $handler ) {
				return $this->health();
			}
			$origin = $request->get_header( 'origin' );
			if ( ! Contract::origin_allowed( $origin, $this->settings->allowed_origins(), Contract::origin_of( home_url() ) ) ) {
				throw new HttpError( 'forbidden_origin', null === $origin ? 'requests without an Origin header are not accepted' : 'this origin is not allowed to use this endpoint' );
			}
			$cors = array(
				'Access-Control-Allow-Origin'   => in_array( '*', $this->settings->allowed_origins(), true ) ? '*' : $origin,
				'Access-Control-Expose-Headers' => 'Retry-After',
				'Vary'                          => 'Origin',
			);
			if ( 'OPTIONS' === $method ) {
				return $this->answer(
					204,
					null,
					$cors + array(
						'Access-Control-Allow-Methods' => 'POST, OPTIONS',
						'Access-Control-Allow-Headers' => 'authorization, content-type',
						'Access-Control-Max-Age'       => '600',
						'Vary'                         => 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
					)
				);
			}
			if ( 'POST' !== $method ) {
				throw new HttpError( 'method_not_allowed', 'use POST' );
			}
			return $this->$handler( $request, $cors );
		} catch ( HttpError $e ) {
			return $this->answer( $e->status(), $e->body(), $cors + ( null !== $e->retry_after ? array( 'Retry-After' => (string) $e->retry_after ) : array() ) );
		} catch ( \Throwable $e ) {
			error_log( 'heygen-avatar: ' . $this->settings->redact( $e->getMessage() ) ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions
			return $this->answer( 500, ( new HttpError( 'internal_error', 'the session endpoint failed; try again later' ) )->body(), $cors + array( 'Retry-After' => '5' ) );
		}
	}

	private function answer( int $status, ?array $body, array $headers ): \WP_REST_Response {
		$res = new \WP_REST_Response( $body, $status );
		$res->set_headers( $headers + array( 'Cache-Control' => 'no-store' ) );
		return $res;
	}

	private static function now(): int {
		return (int) floor( microtime( true ) * 1000 );
	}

	private function client(): string {
		$header = $this->settings->get( 'client_ip_header' );
		$value  = '' !== $header ? ( $_SERVER[ 'HTTP_' . strtoupper( str_replace( '-', '_', $header ) ) ] ?? '' ) : ''; // phpcs:ignore WordPress.Security.ValidatedSanitizedInput
		if ( '' !== $value ) {
			// The client is the address the trusted proxy saw: the right-most of a list.
			$parts = array_map( 'trim', explode( ',', $value ) );
			return substr( (string) end( $parts ), 0, 64 );
		}
		return substr( (string) ( $_SERVER['REMOTE_ADDR'] ?? 'unknown' ), 0, 64 ); // phpcs:ignore WordPress.Security.ValidatedSanitizedInput
	}

	/** The raw body, refused above `$limit` bytes, with one of `$types` as its Content-Type. */
	private static function body( \WP_REST_Request $request, int $limit, array $types, bool $optional = false ): string {
		$length = (int) ( $_SERVER['CONTENT_LENGTH'] ?? 0 ); // phpcs:ignore WordPress.Security.ValidatedSanitizedInput
		$body   = $request->get_body();
		if ( $length > $limit || strlen( $body ) > $limit ) {
			throw new HttpError( 'payload_too_large', "the request body is larger than $limit bytes" );
		}
		if ( '' === $body && $optional ) {
			return $body;
		}
		$type = strtolower( trim( explode( ';', (string) $request->get_header( 'content-type' ) )[0] ) );
		if ( ! in_array( $type, $types, true ) ) {
			throw new HttpError( 'unsupported_media_type', 'send the body as ' . implode( ' or ', $types ) );
		}
		return $body;
	}

	private function rate_limit( string $kind, string $who ): void {
		[ $per_minute, $burst ] = $this->settings->rate( $kind );
		$wait                   = $this->store->take_token( "$kind:$who", $per_minute, $burst, self::now() );
		if ( null !== $wait ) {
			throw new HttpError( 'rate_limited', "too many requests; retry in $wait s", $wait );
		}
	}

	/** The open session the request's Bearer key names, with a sign of life recorded; else 401. */
	private function authorize( \WP_REST_Request $request ): object {
		$key    = Contract::bearer( $request->get_header( 'authorization' ) );
		$record = $key ? $this->store->open_session( Contract::ref_of( $key ), self::now() ) : null;
		if ( ! $record ) {
			throw new HttpError( 'unauthorized', $key ? 'unknown or closed session' : 'send the session key as Authorization: Bearer <sessionKey>' );
		}
		$this->store->touch( $record->ref, self::now() );
		return $record;
	}

	private function create_session( \WP_REST_Request $request, array $cors ): \WP_REST_Response {
		$client = $this->client();
		$this->rate_limit( 'session', $client );
		$params = Contract::session_params( Contract::json_object( self::body( $request, Contract::MAX_BODY_BYTES, array( 'application/json' ), true ), true ), $this->settings->offer() );
		$this->reap( 10 );
		[ $key, $ref ] = Contract::new_session_key();
		$now           = self::now();
		$caps          = $this->settings->caps();
		$reserved      = $this->store->reserve( $ref, $client, $caps['max_sessions'], $caps['max_sessions_per_client'], $now, $now + self::PENDING_MS );
		if ( 'total' === $reserved ) {
			throw new HttpError( 'over_capacity', 'every avatar session is in use; try again in a minute', 30 );
		}
		if ( 'client' === $reserved ) {
			throw new HttpError( 'too_many_sessions', "this client already has {$caps['max_sessions_per_client']} open session(s); close one first", 30 );
		}
		$avatar  = $this->settings->avatar_service();
		$created = null;
		try {
			$created = $avatar->create( $params, $caps['max_session_seconds'], $caps['idle_timeout_seconds'] );
			$stt     = $this->settings->deepgram()->grant();
		} catch ( \Throwable $e ) {
			$orphan = $e instanceof OrphanedSession ? $e->session_id : ( $created['session_id'] ?? null );
			if ( $orphan ) {
				$this->stop_orphan( $ref, $orphan, $avatar, $client );
			} else {
				$this->store->remove( $ref );
			}
			throw $e instanceof OrphanedSession ? $e->failure : $e;
		}
		$duration = Contract::duration_seconds( $caps['max_session_seconds'], $created['duration_limit'] );
		$now      = self::now();
		$this->store->record( $ref, $created['session_id'], $avatar->provider(), $now, $now + $duration * 1000, self::STOP_LEASE_MS * 2 );
		$base = rest_url( self::NAMESPACE );
		$body = Contract::session_answer(
			$key,
			$created,
			$stt,
			array(
				'stt_refresh'   => "$base/session/stt-token",
				'heartbeat'     => "$base/session/heartbeat",
				'close'         => "$base/session/close",
				'llm'           => $this->settings->llm_enabled() ? "$base/llm" : null,
				'deepgram_base' => $this->settings->get( 'deepgram_api_base' ),
			),
			$caps
		);
		return $this->answer( 200, $body, $cors );
	}

	/** A session made but not usable: stopped now, or recorded for the reaper when the stop fails. */
	private function stop_orphan( string $ref, string $session_id, AvatarService $avatar, string $client ): void {
		try {
			$avatar->stop( $session_id, 'create_failed' );
			$this->store->remove( $ref );
		} catch ( \Throwable $e ) {
			$this->store->record_orphan( $ref, $session_id, $avatar->provider(), $client, self::now(), self::STOP_LEASE_MS * self::MAX_STOP_ATTEMPTS * 2 );
		}
	}

	private function refresh_stt_token( \WP_REST_Request $request, array $cors ): \WP_REST_Response {
		$record = $this->authorize( $request );
		$this->rate_limit( 'stt', $record->ref );
		$grant = $this->settings->deepgram()->grant();
		return $this->answer( 200, array( 'token' => $grant['token'], 'expiresIn' => $grant['expires_in'] ), $cors );
	}

	private function heartbeat( \WP_REST_Request $request, array $cors ): \WP_REST_Response {
		$this->authorize( $request );
		return $this->answer( 204, null, $cors );
	}

	/**
	 * The browser is done (a sendBeacon on pagehide: text/plain, the key in the body). The avatar
	 * session is stopped now; the service's "already closed" (the widget stops it itself first) is
	 * success. A second report of the same session (beacon + keepalive fetch) finds no record: 404.
	 */
	private function close_session( \WP_REST_Request $request, array $cors ): \WP_REST_Response {
		$body = Contract::json_object( self::body( $request, Contract::MAX_CLOSE_BODY_BYTES, array( 'text/plain', 'application/json' ) ) );
		$id   = $body['sessionId'] ?? null;
		$key  = $body['sessionKey'] ?? null;
		if ( ! is_string( $id ) || '' === $id || strlen( $id ) > 200 ) {
			throw new HttpError( 'bad_request', '"sessionId" must be a non-empty string' );
		}
		if ( ! is_string( $key ) || '' === $key || strlen( $key ) > 200 ) {
			throw new HttpError( 'bad_request', '"sessionKey" must be a non-empty string' );
		}
		$record = $this->store->find( Contract::ref_of( $key ) );
		if ( ! $record || $record->session_id !== $id ) {
			throw new HttpError( 'not_found', 'no open session with this id and key' );
		}
		$now = self::now();
		// Not claimed: another request or the reaper is stopping it right now.
		if ( $this->store->claim( $record->ref, $now, $now + self::STOP_LEASE_MS ) ) {
			$this->stop( $record, 'client_closed' );
		}
		return $this->answer( 200, array( 'closed' => true ), $cors );
	}

	/** Stops a claimed session and forgets it; a failed stop stays claimed until its lease ends, then the reaper retries. */
	private function stop( object $record, string $reason ): bool {
		try {
			$this->settings->avatar_service( $record->provider )->stop( $record->session_id, $reason );
			$this->store->remove( $record->ref );
			return true;
		} catch ( \Throwable $e ) {
			error_log( sprintf( 'heygen-avatar: stopping session %s failed (%s, attempt %d): %s', $record->session_id, $reason, $record->stop_attempts + 1, $this->settings->redact( $e->getMessage() ) ) ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions
			if ( $record->stop_attempts + 1 >= self::MAX_STOP_ATTEMPTS ) {
				$this->store->remove( $record->ref );
			}
			return false;
		}
	}

	/**
	 * Stops sessions past their deadline or without a sign of life (heartbeat, STT refresh, LLM
	 * call) for the abandonment time. WP-Cron runs it every minute; each new session runs a
	 * short pass too, so a site without visitors for the cron still frees its slots.
	 */
	public function reap( int $limit = 100 ): int {
		$now    = self::now();
		$before = $now - $this->settings->caps()['abandon_after_seconds'] * 1000;
		$closed = 0;
		foreach ( $this->store->due( $now, $before, $limit ) as $row ) {
			if ( ! $this->store->claim( $row->ref, $now, $now + self::STOP_LEASE_MS, $before ) ) {
				continue;
			}
			$reason = $row->stop_attempts > 0 ? 'stop_retry' : ( $row->deadline <= $now ? 'duration_limit' : 'abandoned' );
			if ( $this->stop( $row, $reason ) ) {
				++$closed;
			}
		}
		$this->store->prune_buckets( $now );
		return $closed;
	}

	private function llm( \WP_REST_Request $request, array $cors ): \WP_REST_Response {
		$this->authorize( $request );
		$this->rate_limit( 'llm', $this->client() );
		$messages = Contract::llm_messages( Contract::json_object( self::body( $request, Contract::MAX_LLM_BODY_BYTES, array( 'application/json' ) ) ) );
		$llm      = $this->settings->llm();
		$upstream = LlmRelay::upstream_request( $llm['provider'], $llm['api_base'], $llm['api_key'], $llm['model'], $llm['system_prompt'], $messages );
		LlmStream::run( $upstream, $llm['provider'], $cors, $this->settings->http() );
		exit; // run() ends the request; never here
	}

	private function health(): \WP_REST_Response {
		try {
			return $this->answer( 200, array( 'status' => 'ok', 'store' => 'wordpress' ) + $this->store->counts( self::now() ), array() );
		} catch ( \Throwable $e ) {
			return $this->answer( 503, array( 'status' => 'error', 'store' => 'wordpress' ), array() );
		}
	}
}
