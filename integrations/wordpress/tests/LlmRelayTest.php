<?php

use HeygenAvatar\LlmRelay;
use PHPUnit\Framework\TestCase;

/** Gemini's and OpenAI's streams as the contract's events: framing, text, refusals, early ends. */
final class LlmRelayTest extends TestCase {
	private static function run_relay( string $provider, array $chunks, ?string $error = null, bool $stalled = false ): array {
		$relay  = new LlmRelay( $provider );
		$events = array();
		foreach ( $chunks as $chunk ) {
			array_push( $events, ...$relay->push( $chunk ) );
		}
		return array_merge( $events, $relay->finish( $error, $stalled ) );
	}

	private static function gemini( string $text, ?string $finish = null ): string {
		$candidate = array( 'content' => array( 'role' => 'model', 'parts' => array( array( 'text' => $text ) ) ) );
		if ( $finish ) {
			$candidate['finishReason'] = $finish;
		}
		return 'data: ' . json_encode( array( 'candidates' => array( $candidate ) ) ) . "\r\n\r\n";
	}

	public function test_gemini_text_parts_become_deltas_then_done_whatever_the_chunking(): void {
		$stream = self::gemini( 'Today ' ) . self::gemini( 'the blue ' ) . self::gemini( 'one.', 'STOP' );
		$whole  = self::run_relay( 'gemini', array( $stream ) );
		$this->assertSame( array( array( 'type' => 'delta', 'text' => 'Today ' ), array( 'type' => 'delta', 'text' => 'the blue ' ), array( 'type' => 'delta', 'text' => 'one.' ), array( 'type' => 'done' ) ), $whole );
		// Byte by byte: a CRLF split across chunks counts once.
		$this->assertSame( $whole, self::run_relay( 'gemini', str_split( $stream ) ) );
	}

	public function test_gemini_thoughts_are_not_said_and_refusals_are_errors(): void {
		$thought = 'data: ' . json_encode( array( 'candidates' => array( array( 'content' => array( 'parts' => array( array( 'text' => 'hmm', 'thought' => true ), array( 'text' => 'Hi' ) ) ) ) ) ) ) . "\n\n";
		$this->assertSame( array( array( 'type' => 'delta', 'text' => 'Hi' ), array( 'type' => 'done' ) ), self::run_relay( 'gemini', array( $thought ) ) );
		$this->assertSame(
			array( array( 'type' => 'error', 'message' => 'the language model declined to answer (safety)', 'recoverable' => true ) ),
			self::run_relay( 'gemini', array( self::gemini( '', 'SAFETY' ) ) )
		);
		$blocked = 'data: ' . json_encode( array( 'promptFeedback' => array( 'blockReason' => 'PROHIBITED_CONTENT' ) ) ) . "\n\n";
		$this->assertSame( 'error', self::run_relay( 'gemini', array( $blocked ) )[0]['type'] );
	}

	public function test_openai_deltas_done_and_early_ends(): void {
		$chunk = static fn ( array $choice ) => 'data: ' . json_encode( array( 'choices' => array( $choice ) ) ) . "\n\n";
		$ok    = $chunk( array( 'delta' => array( 'role' => 'assistant' ) ) ) . $chunk( array( 'delta' => array( 'content' => 'Hello' ) ) ) . $chunk( array( 'delta' => array(), 'finish_reason' => 'stop' ) ) . "data: [DONE]\n\n";
		$this->assertSame( array( array( 'type' => 'delta', 'text' => 'Hello' ), array( 'type' => 'done' ) ), self::run_relay( 'openai', array( $ok ) ) );
		$cut = $chunk( array( 'delta' => array( 'content' => 'Hel' ) ) );
		$this->assertSame( 'the language model stream ended early', self::run_relay( 'openai', array( $cut ) )[1]['message'] );
		$this->assertSame( 'error', self::run_relay( 'openai', array( $chunk( array( 'delta' => array(), 'finish_reason' => 'content_filter' ) ) ) )[0]['type'] );
	}

	public function test_failures_end_the_stream_with_one_error(): void {
		$this->assertSame( array( array( 'type' => 'delta', 'text' => 'a' ), array( 'type' => 'error', 'message' => 'the language model stopped answering', 'recoverable' => true ) ), self::run_relay( 'gemini', array( self::gemini( 'a' ) ), null, true ) );
		$this->assertSame( 'the connection to the language model broke', self::run_relay( 'gemini', array(), 'reset' )[0]['message'] );
		$relay = new LlmRelay( 'gemini' );
		$this->assertSame( array( array( 'type' => 'error', 'message' => 'the language model sent something unreadable', 'recoverable' => true ) ), $relay->push( "data: {oops\n\n" ) );
		$this->assertTrue( $relay->ended() );
		$this->assertSame( array(), $relay->finish() );
		$error = 'data: ' . json_encode( array( 'error' => array( 'code' => 500, 'message' => 'internal key-abc' ) ) ) . "\n\n";
		$this->assertSame( array( array( 'type' => 'error', 'message' => 'the language model failed while answering', 'recoverable' => true ) ), self::run_relay( 'gemini', array( $error ) ) );
	}

	public function test_upstream_requests(): void {
		$messages = array( array( 'role' => 'assistant', 'content' => 'Hi!' ), array( 'role' => 'user', 'content' => 'a' ), array( 'role' => 'user', 'content' => 'b' ) );
		$g        = LlmRelay::upstream_request( 'gemini', 'https://g', 'KEY', 'gemini-2.5-flash', 'Be brief.', $messages );
		$this->assertSame( 'https://g/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', $g['url'] );
		$this->assertContains( 'x-goog-api-key: KEY', $g['headers'] );
		$this->assertSame(
			array(
				'contents'          => array( array( 'role' => 'user', 'parts' => array( array( 'text' => "a\n\nb" ) ) ) ),
				'systemInstruction' => array( 'parts' => array( array( 'text' => 'Be brief.' ) ) ),
				'generationConfig'  => array( 'maxOutputTokens' => 512, 'thinkingConfig' => array( 'thinkingBudget' => 0 ) ),
			),
			json_decode( $g['body'], true )
		);
		$o = LlmRelay::upstream_request( 'openai', 'https://o', 'KEY', 'gpt-4o-mini', '', $messages );
		$this->assertSame( 'https://o/v1/chat/completions', $o['url'] );
		$this->assertContains( 'authorization: Bearer KEY', $o['headers'] );
		$this->assertSame( array( 'model' => 'gpt-4o-mini', 'stream' => true, 'max_tokens' => 512, 'messages' => $messages ), json_decode( $o['body'], true ) );
		$this->assertSame( "data: {\"type\":\"delta\",\"text\":\"Grüße / ok\"}\n\n", LlmRelay::frame( array( 'type' => 'delta', 'text' => 'Grüße / ok' ) ) );
	}
}
