<?php

use HeygenAvatar\Contract;
use HeygenAvatar\HttpError;
use PHPUnit\Framework\TestCase;

/** The session request, the LLM request and the session answer, as docs/broker.md and the JSON Schema say. */
final class ContractTest extends TestCase {
	private const OFFER = array(
		'avatar_ids'       => array( 'dd73ea75-1218-4ef3-92ce-606d5f7fbc0a', 'other' ),
		'voice_ids'        => array(),
		'languages'        => Contract::LANGUAGES,
		'default_language' => 'de',
		'quality'          => 'medium',
	);

	private function refused( callable $fn, string $code, string $message = '' ): void {
		try {
			$fn();
			$this->fail( "expected $code" );
		} catch ( HttpError $e ) {
			$this->assertSame( $code, $e->error_code );
			$this->assertStringContainsString( $message, $e->getMessage() );
			$this->assertSame( array( 'error' => array( 'code' => $code, 'message' => $e->getMessage() ) ), $e->body() );
		}
	}

	public function test_an_empty_request_gets_every_default(): void {
		$this->assertSame(
			array( 'avatarId' => 'dd73ea75-1218-4ef3-92ce-606d5f7fbc0a', 'quality' => 'medium', 'voiceId' => null, 'voiceRate' => 1.0, 'language' => 'de', 'sttModel' => 'nova-2' ),
			Contract::session_params( Contract::json_object( '', true ), self::OFFER )
		);
	}

	public function test_fields_are_checked_one_by_one(): void {
		$p = Contract::session_params( array( 'avatarId' => 'other', 'quality' => 'high', 'voiceId' => 'v-1', 'voiceRate' => 1.25, 'language' => 'en-US', 'sttModel' => 'nova-3' ), self::OFFER );
		$this->assertSame( array( 'avatarId' => 'other', 'quality' => 'high', 'voiceId' => 'v-1', 'voiceRate' => 1.25, 'language' => 'en-US', 'sttModel' => 'nova-3' ), $p );
		$this->refused( fn () => Contract::session_params( array( 'avatarID' => 'x' ), self::OFFER ), 'bad_request', 'unknown field "avatarID"' );
		$this->refused( fn () => Contract::session_params( array( 'quality' => 'ultra' ), self::OFFER ), 'bad_request', '"quality" must be low, medium or high' );
		$this->refused( fn () => Contract::session_params( array( 'avatarId' => 'Anna_public_3' ), self::OFFER ), 'bad_request', 'not offered here' );
		$this->refused( fn () => Contract::session_params( array( 'voiceRate' => 'fast' ), self::OFFER ), 'bad_request', 'voiceRate' );
		$this->refused( fn () => Contract::session_params( array( 'voiceRate' => 2 ), self::OFFER ), 'bad_request', 'from 0.5 to 1.5' );
		$this->refused( fn () => Contract::session_params( array( 'language' => 'xx' ), self::OFFER ), 'bad_request', 'language "xx" is not offered' );
		$this->refused( fn () => Contract::session_params( array( 'language' => '<script>' ), self::OFFER ), 'bad_request', 'BCP-47' );
		$this->refused( fn () => Contract::session_params( array( 'voiceId' => 'a b' ), self::OFFER ), 'bad_request', 'voiceId' );
		$this->refused( fn () => Contract::session_params( array( 'sttModel' => 'whisper' ), self::OFFER ), 'bad_request', 'STT model' );
		$this->refused( fn () => Contract::session_params( array( 'avatarId' => 5 ), self::OFFER ), 'bad_request', 'must be a string' );
	}

	public function test_bodies_must_be_json_objects(): void {
		$this->refused( fn () => Contract::json_object( 'not json' ), 'invalid_json' );
		$this->refused( fn () => Contract::json_object( '[1,2]' ), 'bad_request', 'JSON object' );
		$this->refused( fn () => Contract::json_object( '' ), 'invalid_json' );
		$this->assertSame( array( 'a' => 1 ), Contract::json_object( '{"a":1}' ) );
	}

	public function test_llm_messages_keep_the_latest_and_end_with_the_user(): void {
		$many = array();
		for ( $i = 0; $i < 25; $i++ ) {
			$many[] = array( 'role' => 0 === $i % 2 ? 'user' : 'assistant', 'content' => "m$i" );
		}
		$kept = Contract::llm_messages( array( 'messages' => $many ) );
		$this->assertCount( 20, $kept );
		$this->assertSame( 'm24', end( $kept )['content'] );
		$long = Contract::llm_messages( array( 'messages' => array( array( 'role' => 'assistant', 'content' => str_repeat( 'é', 2500 ) ), array( 'role' => 'user', 'content' => 'hi' ) ) ) );
		$this->assertSame( 2000, mb_strlen( $long[0]['content'] ) );
		$this->refused( fn () => Contract::llm_messages( array( 'messages' => array() ) ), 'bad_request', 'non-empty array' );
		$this->refused( fn () => Contract::llm_messages( array( 'messages' => array( array( 'role' => 'system', 'content' => 'x' ) ) ) ), 'bad_request', 'role' );
		$this->refused( fn () => Contract::llm_messages( array( 'messages' => array( array( 'role' => 'user', 'content' => '  ' ) ) ) ), 'bad_request', 'empty' );
		$this->refused( fn () => Contract::llm_messages( array( 'messages' => array( array( 'role' => 'user', 'content' => 'x' ), array( 'role' => 'assistant', 'content' => 'y' ) ) ) ), 'bad_request', "user's" );
		$this->refused( fn () => Contract::llm_messages( array( 'messages' => array( array( 'role' => 'user', 'content' => str_repeat( 'x', 2001 ) ) ) ) ), 'bad_request', 'longer than 2000' );
		$this->refused( fn () => Contract::llm_messages( array( 'messages' => array( array( 'role' => 'user', 'content' => 'x', 'name' => 'n' ) ) ) ), 'bad_request', 'messages[0]' );
		$this->refused( fn () => Contract::llm_messages( array( 'model' => 'x', 'messages' => array() ) ), 'bad_request', 'unknown field "model"' );
	}

	/** The plugin's answer, for both avatar services, has exactly what the contract's JSON Schema requires. */
	public function test_the_session_answer_matches_the_json_schema(): void {
		$schema = json_decode( file_get_contents( dirname( __DIR__, 3 ) . '/schema/session-endpoint.schema.json' ), true );
		$urls   = array( 'stt_refresh' => 'https://s.example/wp-json/heygen-avatar/v1/session/stt-token', 'heartbeat' => 'https://s.example/h', 'close' => 'https://s.example/c', 'llm' => 'https://s.example/l', 'deepgram_base' => 'https://api.deepgram.com' );
		$limits = array( 'max_session_seconds' => 600, 'idle_timeout_seconds' => 120, 'abandon_after_seconds' => 60 );
		[ $key ] = Contract::new_session_key();
		$this->assertMatchesRegularExpression( '/^[A-Za-z0-9_-]{43}$/', $key );
		foreach ( array(
			array( 'provider' => 'liveavatar', 'apiBase' => 'https://api.liveavatar.com', 'token' => 'a.b.c' ),
			array( 'provider' => 'heygen-streaming', 'apiBase' => 'https://api.heygen.com', 'token' => 't', 'livekit' => array( 'url' => 'wss://lk', 'token' => 'j' ) ),
		) as $access ) {
			$answer = Contract::session_answer( $key, array( 'session_id' => 'sid', 'access' => $access, 'duration_limit' => 60 ), array( 'token' => 'dg', 'expires_in' => 30 ), $urls, $limits );
			$this->assertSame( array(), self::schema_problems( $schema, $schema['definitions']['SessionResponse'], json_decode( json_encode( $answer ) ), '' ) );
			$this->assertSame( 60, $answer['limits']['sessionDurationSeconds'] );
			$this->assertSame( 20, $answer['heartbeat']['intervalSeconds'] );
		}
		$answer = Contract::session_answer( $key, array( 'session_id' => 'sid', 'access' => array( 'provider' => 'liveavatar', 'apiBase' => 'x', 'token' => 't' ), 'duration_limit' => null ), array( 'token' => 'dg', 'expires_in' => 30 ), array( 'llm' => null ) + $urls, $limits );
		$this->assertArrayNotHasKey( 'llm', $answer );
		$this->assertSame( 600, $answer['limits']['sessionDurationSeconds'] );
		unset( $answer['closeUrl'] );
		$this->assertSame( array( '/ must have closeUrl' ), self::schema_problems( $schema, $schema['definitions']['SessionResponse'], json_decode( json_encode( $answer ) ), '' ) );
	}

	/** The subset of JSON Schema the contract uses: $ref, anyOf, type, const, enum, required, additionalProperties, minLength. */
	private static function schema_problems( array $root, array $s, mixed $v, string $path ): array {
		if ( isset( $s['$ref'] ) ) {
			return self::schema_problems( $root, $root['definitions'][ substr( $s['$ref'], strlen( '#/definitions/' ) ) ], $v, $path );
		}
		if ( isset( $s['anyOf'] ) ) {
			foreach ( $s['anyOf'] as $option ) {
				if ( ! self::schema_problems( $root, $option, $v, $path ) ) {
					return array();
				}
			}
			return array( "$path matches none of anyOf" );
		}
		$types = array( 'object' => is_object( $v ), 'string' => is_string( $v ), 'number' => is_int( $v ) || is_float( $v ), 'boolean' => is_bool( $v ), 'array' => is_array( $v ) );
		if ( isset( $s['type'] ) && ! $types[ $s['type'] ] ) {
			return array( "$path is not a {$s['type']}" );
		}
		if ( isset( $s['const'] ) && $v !== $s['const'] ) {
			return array( "$path is not {$s['const']}" );
		}
		if ( isset( $s['minLength'] ) && strlen( $v ) < $s['minLength'] ) {
			return array( "$path is too short" );
		}
		$problems = array();
		if ( is_object( $v ) ) {
			foreach ( $s['required'] ?? array() as $name ) {
				if ( ! property_exists( $v, $name ) ) {
					$problems[] = ( $path ?: '/' ) . " must have $name";
				}
			}
			foreach ( get_object_vars( $v ) as $name => $value ) {
				if ( ! isset( $s['properties'][ $name ] ) ) {
					$problems[] = "$path/$name is not in the contract";
				} else {
					array_push( $problems, ...self::schema_problems( $root, $s['properties'][ $name ], $value, "$path/$name" ) );
				}
			}
		}
		return $problems;
	}

	public function test_origins_bearer_keys_and_clipping(): void {
		$this->assertTrue( Contract::origin_allowed( 'https://shop.example', array( 'https://shop.example' ), 'https://site.example' ) );
		$this->assertTrue( Contract::origin_allowed( 'https://site.example', array(), 'https://site.example' ) );
		$this->assertTrue( Contract::origin_allowed( 'https://any.example', array( '*' ), 'https://site.example' ) );
		$this->assertFalse( Contract::origin_allowed( 'https://evil.example', array( 'https://shop.example' ), 'https://site.example' ) );
		$this->assertFalse( Contract::origin_allowed( null, array( '*' ), 'https://site.example' ) );
		$this->assertSame( 'http://127.0.0.1:8080', Contract::origin_of( 'http://127.0.0.1:8080/wp/?p=1' ) );
		$this->assertSame( 'abc', Contract::bearer( 'Bearer abc' ) );
		$this->assertNull( Contract::bearer( 'Basic abc' ) );
		$this->assertNull( Contract::bearer( null ) );
		$this->assertSame( hash( 'sha256', 'abc' ), Contract::ref_of( 'abc' ) );
		$this->assertSame( str_repeat( 'a', 40 ) . '…', Contract::clip( str_repeat( 'a', 50 ) ) );
		$this->assertSame( 'a?b', Contract::clip( "a\nb" ) );
	}
}
