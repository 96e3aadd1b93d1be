<?php

use HeygenAvatar\DeepgramGrants;
use HeygenAvatar\HeygenStreamingService;
use HeygenAvatar\Http;
use HeygenAvatar\HttpError;
use HeygenAvatar\LiveAvatarService;
use HeygenAvatar\OrphanedSession;
use PHPUnit\Framework\TestCase;

/** The services' wire shapes and how their answers map to the contract's codes (no network: a scripted transport). */
final class UpstreamsTest extends TestCase {
	private const KEY = 'account-key-0123456789abcdef';
	private array $calls = array();
	private string $log;

	protected function setUp(): void {
		$this->log = tempnam( sys_get_temp_dir(), 'ha-log' );
		ini_set( 'error_log', $this->log );
	}

	protected function tearDown(): void {
		ini_restore( 'error_log' );
		unlink( $this->log );
	}

	/** An Http whose answers are `$answers` in order: [status, body array|string, headers?]. */
	private function http( array $answers ): Http {
		return new Http(
			function ( $method, $url, $headers, $body ) use ( &$answers ) {
				$this->calls[] = array( 'method' => $method, 'url' => $url, 'headers' => $headers, 'body' => null === $body ? null : json_decode( $body, true ) );
				[ $status, $answer, $h ] = array_shift( $answers ) + array( 2 => array() );
				return 0 === $status ? array( 'status' => 0, 'body' => '', 'headers' => array(), 'error' => $answer, 'timed_out' => str_contains( $answer, 'timed out' ) ) : array( 'status' => $status, 'body' => is_string( $answer ) ? $answer : json_encode( $answer ), 'headers' => $h );
			},
			array( self::KEY )
		);
	}

	private const PARAMS = array( 'avatarId' => 'dd73ea75-1218-4ef3-92ce-606d5f7fbc0a', 'quality' => 'high', 'voiceId' => null, 'voiceRate' => 1.0, 'language' => 'en-US', 'sttModel' => 'nova-2' );

	private function code( callable $fn ): string {
		try {
			$fn();
		} catch ( HttpError $e ) {
			return $e->error_code . ( $e->retry_after ? " {$e->retry_after}" : '' );
		}
		return 'none';
	}

	public function test_liveavatar_session_token_call_and_answer(): void {
		$la      = new LiveAvatarService( $this->http( array( array( 200, array( 'code' => 1000, 'data' => array( 'session_id' => 's1', 'session_token' => 'h.p.s' ) ) ) ) ), self::KEY, 'https://la', false );
		$created = $la->create( self::PARAMS, 600, 120 );
		$this->assertSame( array( 'session_id' => 's1', 'access' => array( 'provider' => 'liveavatar', 'apiBase' => 'https://la', 'token' => 'h.p.s' ), 'duration_limit' => null ), $created );
		$this->assertSame( 'https://la/v1/sessions/token', $this->calls[0]['url'] );
		$this->assertSame( self::KEY, $this->calls[0]['headers']['x-api-key'] );
		$this->assertSame(
			array( 'mode' => 'FULL', 'avatar_id' => self::PARAMS['avatarId'], 'avatar_persona' => array( 'language' => 'en' ), 'video_settings' => array( 'quality' => 'high', 'encoding' => 'VP8' ), 'max_session_duration' => 600, 'is_sandbox' => false ),
			$this->calls[0]['body']
		);
		$sandbox = new LiveAvatarService( $this->http( array( array( 200, array( 'code' => 1000, 'data' => array( 'session_id' => 's2', 'session_token' => 'h.p.s' ) ) ) ) ), self::KEY, 'https://la', true );
		$this->assertSame( 60, $sandbox->create( self::PARAMS, 600, 120 )['duration_limit'] );
	}

	public function test_liveavatar_failures(): void {
		$make = fn ( array $answer ) => new LiveAvatarService( $this->http( array( $answer ) ), self::KEY, 'https://la', false );
		$this->assertSame( 'upstream_unauthorized', $this->code( fn () => $make( array( 403, array( 'code' => 4003, 'message' => 'Not authenticated' ) ) )->create( self::PARAMS, 600, 120 ) ) );
		$this->assertSame( 'upstream_error', $this->code( fn () => $make( array( 422, array( 'code' => 4000, 'message' => 'bad avatar' ) ) )->create( self::PARAMS, 600, 120 ) ) );
		$this->assertSame( 'upstream_rate_limited 7', $this->code( fn () => $make( array( 429, array(), array( 'retry-after' => '7' ) ) )->create( self::PARAMS, 600, 120 ) ) );
		$this->assertSame( 'upstream_error 2', $this->code( fn () => $make( array( 503, 'down' ) )->create( self::PARAMS, 600, 120 ) ) );
		$this->assertSame( 'upstream_error', $this->code( fn () => $make( array( 200, array( 'code' => 100, 'data' => array() ) ) )->create( self::PARAMS, 600, 120 ) ) );
		$this->assertSame( 'upstream_error', $this->code( fn () => $make( array( 200, '<html>' ) )->create( self::PARAMS, 600, 120 ) ) );
		$this->assertSame( 'upstream_timeout 5', $this->code( fn () => $make( array( 0, 'Operation timed out after 10000 ms' ) )->create( self::PARAMS, 600, 120 ) ) );
		try {
			$make( array( 200, array( 'code' => 1000, 'data' => array( 'session_id' => 's3', 'session_token' => 'not-a-jwt' ) ) ) )->create( self::PARAMS, 600, 120 );
			$this->fail( 'expected an orphan' );
		} catch ( OrphanedSession $e ) {
			$this->assertSame( 's3', $e->session_id );
		}
		// The service's words go to the log, without the key.
		$this->assertStringContainsString( 'LiveAvatar sessions.token failed (HTTP 403)', file_get_contents( $this->log ) );
		$this->assertStringNotContainsString( self::KEY, file_get_contents( $this->log ) );
	}

	public function test_liveavatar_stop_is_idempotent(): void {
		$la = new LiveAvatarService( $this->http( array( array( 200, array( 'code' => 1000, 'data' => null ) ), array( 404, array( 'code' => 4004 ) ), array( 500, 'x' ) ) ), self::KEY, 'https://la', false );
		$this->assertSame( 'stopped', $la->stop( 's1', 'client_closed' ) );
		$this->assertSame( array( 'session_id' => 's1', 'reason' => 'USER_CLOSED' ), $this->calls[0]['body'] );
		$this->assertSame( 'already_closed', $la->stop( 's1', 'abandoned' ) );
		$this->assertSame( 'ZOMBIE_SESSION_REAP', $this->calls[1]['body']['reason'] );
		$this->assertSame( 'upstream_error 2', $this->code( fn () => $la->stop( 's1', 'duration_limit' ) ) );
	}

	public function test_heygen_token_then_new_with_that_token(): void {
		$hg      = new HeygenStreamingService(
			$this->http(
				array(
					array( 200, array( 'code' => 100, 'data' => array( 'token' => 'session-token' ) ) ),
					array( 200, array( 'code' => 100, 'data' => array( 'session_id' => 'h1', 'url' => 'wss://lk', 'access_token' => 'jwt', 'session_duration_limit' => 600 ) ) ),
				)
			),
			self::KEY,
			'https://hg'
		);
		$created = $hg->create( array( 'voiceId' => 'v1', 'voiceRate' => 1.2 ) + self::PARAMS, 900, 120 );
		$this->assertSame( array( 'session_id' => 'h1', 'access' => array( 'provider' => 'heygen-streaming', 'apiBase' => 'https://hg', 'token' => 'session-token', 'livekit' => array( 'url' => 'wss://lk', 'token' => 'jwt' ) ), 'duration_limit' => 600 ), $created );
		$this->assertSame( array( 'https://hg/v1/streaming.create_token', 'https://hg/v1/streaming.new' ), array_column( $this->calls, 'url' ) );
		$this->assertSame( self::KEY, $this->calls[0]['headers']['x-api-key'] );
		$this->assertSame( 'Bearer session-token', $this->calls[1]['headers']['authorization'] );
		$this->assertArrayNotHasKey( 'x-api-key', $this->calls[1]['headers'] );
		$this->assertSame( array( 'quality' => 'high', 'avatar_id' => self::PARAMS['avatarId'], 'voice' => array( 'rate' => 1.2, 'voice_id' => 'v1' ), 'version' => 'v2', 'video_encoding' => 'VP8', 'language' => 'en-US', 'activity_idle_timeout' => 120 ), $this->calls[1]['body'] );
	}

	public function test_heygen_stop_and_capacity(): void {
		$hg = new HeygenStreamingService( $this->http( array( array( 200, array( 'code' => 100, 'data' => array() ) ), array( 400, array( 'code' => 10005, 'message' => 'closed' ) ), array( 400, array( 'code' => 10007 ) ), array( 400, array( 'code' => 400112 ) ) ) ), self::KEY, 'https://hg' );
		$this->assertSame( 'stopped', $hg->stop( 'h1', 'client_closed' ) );
		$this->assertSame( 'already_closed', $hg->stop( 'h1', 'client_closed' ) );
		$this->assertSame( 'already_closed', $hg->stop( 'h1', 'client_closed' ) );
		$this->assertSame( 'upstream_error', $this->code( fn () => $hg->stop( 'h1', 'client_closed' ) ) );
		$full = new HeygenStreamingService( $this->http( array( array( 400, array( 'code' => 10004, 'message' => 'concurrent limit' ) ) ) ), self::KEY, 'https://hg' );
		$this->assertSame( 'upstream_over_capacity 30', $this->code( fn () => $full->create( self::PARAMS, 600, 120 ) ) );
	}

	public function test_deepgram_grant(): void {
		$dg = new DeepgramGrants( $this->http( array( array( 200, array( 'access_token' => 'tmp', 'expires_in' => 30 ) ), array( 401, array( 'err_code' => 'INVALID_AUTH' ) ) ) ), self::KEY, 'https://dg' );
		$this->assertSame( array( 'token' => 'tmp', 'expires_in' => 30 ), $dg->grant() );
		$this->assertSame( 'https://dg/v1/auth/grant', $this->calls[0]['url'] );
		$this->assertSame( 'Token ' . self::KEY, $this->calls[0]['headers']['authorization'] );
		$this->assertSame( array( 'ttl_seconds' => 30 ), $this->calls[0]['body'] );
		$this->assertSame( 'upstream_unauthorized', $this->code( fn () => $dg->grant() ) );
	}
}
