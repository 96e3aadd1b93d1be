<?php
/**
 * The session endpoint contract (docs/broker.md, "The JSON contract"; schema/session-endpoint.schema.json)
 * without WordPress: what a request may hold, and the answers. Unit-tested with PHPUnit.
 */

namespace HeygenAvatar;

defined( 'ABSPATH' ) || exit;

final class Contract {
	/** Languages Deepgram nova-2 transcribes and the avatar services speak (the shipped broker's list). */
	const LANGUAGES = array( 'bg', 'ca', 'cs', 'da', 'de', 'el', 'en', 'es', 'et', 'fi', 'fr', 'hi', 'hu', 'id', 'it', 'ja', 'ko', 'lt', 'lv', 'ms', 'nl', 'no', 'pl', 'pt', 'ro', 'ru', 'sk', 'sv', 'th', 'tr', 'uk', 'vi', 'zh' );
	const STT_MODELS = array( 'nova-2', 'nova-3' );
	const QUALITIES  = array( 'low', 'medium', 'high' );
	const SESSION_FIELDS = array( 'avatarId', 'quality', 'voiceId', 'voiceRate', 'language', 'sttModel' );
	const ID_PATTERN = '/^[A-Za-z0-9_.:-]{1,128}$/';
	const BCP47      = '/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/';

	/** Largest body of the session routes (bytes). */
	const MAX_BODY_BYTES = 16384;
	/** Largest body of the LLM route (bytes). */
	const MAX_LLM_BODY_BYTES = 65536;
	/** Close requests carry two short strings. */
	const MAX_CLOSE_BODY_BYTES = 2048;

	/**
	 * Parses a JSON object body; `invalid_json` for anything else. An empty body is `{}` when `$empty_ok`.
	 *
	 * @return array<string, mixed>
	 */
	public static function json_object( string $body, bool $empty_ok = false ): array {
		if ( '' === trim( $body ) && $empty_ok ) {
			return array();
		}
		try {
			$value = json_decode( $body, true, 64, JSON_THROW_ON_ERROR );
		} catch ( \JsonException $e ) {
			throw new HttpError( 'invalid_json', 'the body is not JSON' );
		}
		if ( ! is_array( $value ) || ( array() !== $value && array_is_list( $value ) ) ) {
			throw new HttpError( 'bad_request', 'the body must be a JSON object' );
		}
		return $value;
	}

	/**
	 * Checks a session request field by field, refusing unknown fields, and fills the defaults.
	 *
	 * @param array<string, mixed> $body
	 * @param array{avatar_ids: string[], voice_ids: string[], languages: string[], default_language: string, quality: string} $offer
	 * @return array{avatarId: string, quality: string, voiceId: ?string, voiceRate: float, language: string, sttModel: string}
	 */
	public static function session_params( array $body, array $offer ): array {
		foreach ( array_keys( $body ) as $key ) {
			if ( ! in_array( $key, self::SESSION_FIELDS, true ) ) {
				throw new HttpError( 'bad_request', sprintf( 'unknown field "%s"; a session request may have %s', self::clip( (string) $key ), implode( ', ', self::SESSION_FIELDS ) ) );
			}
		}
		$str = static function ( string $name ) use ( $body ): ?string {
			$v = $body[ $name ] ?? null;
			if ( null === $v ) {
				return null;
			}
			if ( ! is_string( $v ) ) {
				throw new HttpError( 'bad_request', "\"$name\" must be a string" );
			}
			return $v;
		};

		$avatar = $str( 'avatarId' ) ?? ( $offer['avatar_ids'][0] ?? '' );
		if ( ! in_array( $avatar, $offer['avatar_ids'], true ) ) {
			throw new HttpError( 'bad_request', sprintf( 'avatar "%s" is not offered here', self::clip( $avatar ) ) );
		}
		$quality = $str( 'quality' ) ?? $offer['quality'];
		if ( ! in_array( $quality, self::QUALITIES, true ) ) {
			throw new HttpError( 'bad_request', sprintf( '"quality" must be low, medium or high, not "%s"', self::clip( $quality ) ) );
		}
		$voice = $str( 'voiceId' );
		if ( null !== $voice ) {
			if ( ! preg_match( self::ID_PATTERN, $voice ) ) {
				throw new HttpError( 'bad_request', '"voiceId" must be 1–128 letters, digits, _ . : or -' );
			}
			if ( $offer['voice_ids'] && ! in_array( $voice, $offer['voice_ids'], true ) ) {
				throw new HttpError( 'bad_request', sprintf( 'voice "%s" is not offered here', $voice ) );
			}
		}
		$rate = 1.0;
		if ( isset( $body['voiceRate'] ) ) {
			if ( ! is_int( $body['voiceRate'] ) && ! is_float( $body['voiceRate'] ) ) {
				throw new HttpError( 'bad_request', '"voiceRate" must be a number from 0.5 to 1.5' );
			}
			$rate = (float) $body['voiceRate'];
			if ( $rate < 0.5 || $rate > 1.5 ) {
				throw new HttpError( 'bad_request', '"voiceRate" must be from 0.5 to 1.5' );
			}
		}
		$language = $str( 'language' ) ?? $offer['default_language'];
		if ( strlen( $language ) > 35 || ! preg_match( self::BCP47, $language ) ) {
			throw new HttpError( 'bad_request', sprintf( '"language" must be a BCP-47 tag such as ru or en-US, not "%s"', self::clip( $language ) ) );
		}
		if ( ! self::language_allowed( $language, $offer['languages'] ) ) {
			throw new HttpError( 'bad_request', sprintf( 'language "%s" is not offered here', $language ) );
		}
		$stt = $str( 'sttModel' ) ?? self::STT_MODELS[0];
		if ( ! in_array( $stt, self::STT_MODELS, true ) ) {
			throw new HttpError( 'bad_request', sprintf( 'STT model "%s" is not offered here', self::clip( $stt ) ) );
		}
		return array(
			'avatarId'  => $avatar,
			'quality'   => $quality,
			'voiceId'   => $voice,
			'voiceRate' => $rate,
			'language'  => $language,
			'sttModel'  => $stt,
		);
	}

	/** True when the tag or its primary subtag is listed (`en` admits `en-US`); case-insensitive. */
	public static function language_allowed( string $tag, array $list ): bool {
		$tag     = strtolower( $tag );
		$primary = explode( '-', $tag )[0];
		foreach ( $list as $l ) {
			$l = strtolower( $l );
			if ( $l === $tag || $l === $primary ) {
				return true;
			}
		}
		return false;
	}

	/**
	 * Checks an LLM route request; keeps the latest `$max_history` messages and cuts older long ones.
	 *
	 * @return list<array{role: string, content: string}>
	 */
	public static function llm_messages( array $body, int $max_history = 20, int $max_chars = 2000 ): array {
		foreach ( array_keys( $body ) as $key ) {
			if ( 'messages' !== $key ) {
				throw new HttpError( 'bad_request', sprintf( 'unknown field "%s"; an LLM request has only "messages"', self::clip( (string) $key ) ) );
			}
		}
		$messages = $body['messages'] ?? null;
		if ( ! is_array( $messages ) || ! $messages || ! array_is_list( $messages ) ) {
			throw new HttpError( 'bad_request', '"messages" must be a non-empty array of {role, content}' );
		}
		if ( count( $messages ) > 1000 ) {
			throw new HttpError( 'bad_request', '"messages" has more than 1000 entries' );
		}
		$out = array();
		foreach ( $messages as $i => $m ) {
			if ( ! is_array( $m ) || array_diff( array_keys( $m ), array( 'role', 'content' ) ) ) {
				throw new HttpError( 'bad_request', "messages[$i] must be an object {role, content}" );
			}
			if ( ! in_array( $m['role'] ?? null, array( 'user', 'assistant' ), true ) ) {
				throw new HttpError( 'bad_request', "messages[$i].role must be \"user\" or \"assistant\"" );
			}
			if ( ! is_string( $m['content'] ?? null ) ) {
				throw new HttpError( 'bad_request', "messages[$i].content must be a string" );
			}
			$out[] = array( 'role' => $m['role'], 'content' => $m['content'] );
		}
		$last = end( $out );
		if ( 'user' !== $last['role'] ) {
			throw new HttpError( 'bad_request', "the last message must be the user's" );
		}
		if ( '' === trim( $last['content'] ) ) {
			throw new HttpError( 'bad_request', "the user's message is empty" );
		}
		if ( mb_strlen( $last['content'] ) > $max_chars ) {
			throw new HttpError( 'bad_request', "the user's message is longer than $max_chars characters" );
		}
		$kept = array();
		foreach ( array_slice( $out, -$max_history ) as $m ) {
			if ( '' !== trim( $m['content'] ) ) {
				$kept[] = array( 'role' => $m['role'], 'content' => mb_substr( $m['content'], 0, $max_chars ) );
			}
		}
		return $kept;
	}

	/**
	 * The session answer (`SessionResponse`): only session-scoped credentials.
	 *
	 * @param array{session_id: string, access: array, duration_limit: ?int} $created what the avatar service made
	 * @param array{token: string, expires_in: int} $stt a Deepgram temporary token
	 * @param array{stt_refresh: string, heartbeat: string, close: string, llm: ?string, deepgram_base: string} $urls
	 * @param array{max_session_seconds: int, idle_timeout_seconds: int, abandon_after_seconds: int} $limits
	 */
	public static function session_answer( string $session_key, array $created, array $stt, array $urls, array $limits ): array {
		$answer = array(
			'sessionId'  => $created['session_id'],
			'sessionKey' => $session_key,
			'avatar'     => $created['access'],
			'stt'        => array(
				'provider'   => 'deepgram',
				'url'        => $urls['deepgram_base'],
				'token'      => $stt['token'],
				'expiresIn'  => $stt['expires_in'],
				'refreshUrl' => $urls['stt_refresh'],
			),
			'limits'     => array(
				'sessionDurationSeconds' => self::duration_seconds( $limits['max_session_seconds'], $created['duration_limit'] ),
				'idleTimeoutSeconds'     => $limits['idle_timeout_seconds'],
			),
			'heartbeat'  => array(
				'url'             => $urls['heartbeat'],
				'intervalSeconds' => max( 1, intdiv( $limits['abandon_after_seconds'], 3 ) ),
			),
			'closeUrl'   => $urls['close'],
		);
		if ( $urls['llm'] ) {
			$answer['llm'] = array( 'url' => $urls['llm'] );
		}
		return $answer;
	}

	/** The session's duration: the operator's limit, or the service's own when lower. */
	public static function duration_seconds( int $max, ?int $service_limit ): int {
		return $service_limit && $service_limit > 0 ? min( $max, $service_limit ) : $max;
	}

	/** A new session key (32 random bytes, base64url) and the hash the store keeps instead of it. */
	public static function new_session_key(): array {
		$key = rtrim( strtr( base64_encode( random_bytes( 32 ) ), '+/', '-_' ), '=' );
		return array( $key, self::ref_of( $key ) );
	}

	public static function ref_of( string $session_key ): string {
		return hash( 'sha256', $session_key );
	}

	/** The session key of `Authorization: Bearer <key>`, or null. */
	public static function bearer( ?string $header ): ?string {
		if ( $header && preg_match( '/^Bearer\s+(\S{1,200})$/i', trim( $header ), $m ) ) {
			return $m[1];
		}
		return null;
	}

	/** True when `$origin` may call: listed exactly, `*` listed, or the site's own origin. */
	public static function origin_allowed( ?string $origin, array $allowed, string $site_origin ): bool {
		if ( null === $origin || '' === $origin ) {
			return false;
		}
		return in_array( '*', $allowed, true ) || in_array( rtrim( $origin, '/' ), $allowed, true ) || rtrim( $origin, '/' ) === $site_origin;
	}

	/** `scheme://host[:port]` of a URL. */
	public static function origin_of( string $url ): string {
		$p = wp_parse_url( $url );
		return strtolower( ( $p['scheme'] ?? 'http' ) . '://' . ( $p['host'] ?? '' ) ) . ( isset( $p['port'] ) ? ':' . $p['port'] : '' );
	}

	/** One printable line of at most 40 characters, for messages that quote the request. */
	public static function clip( string $s ): string {
		$s = preg_replace( '/[^\x20-\x7e]/', '?', $s );
		return strlen( $s ) > 40 ? substr( $s, 0, 40 ) . '…' : $s;
	}
}
