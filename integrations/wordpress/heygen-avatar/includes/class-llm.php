<?php
/**
 * The LLM route (`POST /llm`): the conversation goes to Gemini or OpenAI, and the model's stream
 * comes back as the contract's SSE events (`delta`…, then one `done` or `error`), each echoed and
 * flushed as it arrives: no output buffering, so the widget speaks the first sentence while the
 * model still writes. When the browser goes away, PHP stops at the next write and the request to
 * the model is dropped with it.
 */

namespace HeygenAvatar;

defined( 'ABSPATH' ) || exit;

/** Upstream SSE text in, the contract's events out (pure: unit-tested without a network). */
final class LlmRelay {
	/** Finish reasons that mean the model refused (Gemini's, and OpenAI's content_filter). */
	const REFUSED = array( 'SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'LANGUAGE', 'OTHER', 'content_filter' );

	private string $buffer  = '';
	private string $data    = '';
	private bool $has_data  = false;
	private bool $finished  = false;
	private ?string $stop   = null;
	private bool $ended     = false;
	public int $deltas      = 0;

	public function __construct( private readonly string $provider ) {}

	/** The upstream request for `$messages` (the contract's roles), with the operator's system prompt. */
	public static function upstream_request( string $provider, string $api_base, string $api_key, string $model, string $system_prompt, array $messages, int $max_output_tokens = 512 ): array {
		if ( 'gemini' === $provider ) {
			$contents = array();
			foreach ( $messages as $m ) {
				$role = 'assistant' === $m['role'] ? 'model' : 'user';
				$last = count( $contents ) - 1;
				if ( $last < 0 && 'model' === $role ) {
					continue; // Gemini's conversation starts with the user.
				}
				if ( $last >= 0 && $contents[ $last ]['role'] === $role ) {
					$contents[ $last ]['parts'][0]['text'] .= "\n\n" . $m['content'];
				} else {
					$contents[] = array( 'role' => $role, 'parts' => array( array( 'text' => $m['content'] ) ) );
				}
			}
			$body = array( 'contents' => $contents );
			if ( '' !== $system_prompt ) {
				$body['systemInstruction'] = array( 'parts' => array( array( 'text' => $system_prompt ) ) );
			}
			// No "thinking": it delays the first word.
			$body['generationConfig'] = array( 'maxOutputTokens' => $max_output_tokens, 'thinkingConfig' => array( 'thinkingBudget' => 0 ) );
			return array(
				'url'     => $api_base . '/v1beta/models/' . rawurlencode( $model ) . ':streamGenerateContent?alt=sse',
				'headers' => array( 'content-type: application/json', 'accept: text/event-stream', 'x-goog-api-key: ' . $api_key ),
				'body'    => wp_json_encode( $body ),
			);
		}
		$all = '' !== $system_prompt ? array_merge( array( array( 'role' => 'system', 'content' => $system_prompt ) ), $messages ) : $messages;
		return array(
			'url'     => $api_base . '/v1/chat/completions',
			'headers' => array( 'content-type: application/json', 'accept: text/event-stream', 'authorization: Bearer ' . $api_key ),
			'body'    => wp_json_encode( array( 'model' => $model, 'stream' => true, 'max_tokens' => $max_output_tokens, 'messages' => $all ) ),
		);
	}

	/**
	 * Feeds upstream text; returns the events it completed. SSE framing per the HTML standard:
	 * LF, CRLF or CR line ends, `data:` lines joined, a blank line dispatches.
	 *
	 * @return list<array>
	 */
	public function push( string $text ): array {
		$events        = array();
		$this->buffer .= $text;
		while ( ! $this->ended && preg_match( '/\r\n|\r(?!$)|\n/', $this->buffer, $m, PREG_OFFSET_CAPTURE ) ) {
			$line         = substr( $this->buffer, 0, $m[0][1] );
			$this->buffer = substr( $this->buffer, $m[0][1] + strlen( $m[0][0] ) );
			if ( '' === $line ) {
				if ( $this->has_data ) {
					array_push( $events, ...$this->event( $this->data ) );
				}
				$this->data     = '';
				$this->has_data = false;
			} elseif ( str_starts_with( $line, 'data:' ) ) {
				$value          = substr( $line, 5 );
				$value          = str_starts_with( $value, ' ' ) ? substr( $value, 1 ) : $value;
				$this->data    .= ( $this->has_data ? "\n" : '' ) . $value;
				$this->has_data = true;
			}
		}
		return $events;
	}

	/** The end of the upstream stream: the one closing event (none if one was already sent). */
	public function finish( ?string $transport_error = null, bool $stalled = false ): array {
		if ( $this->ended ) {
			return array();
		}
		$this->ended = true;
		if ( $stalled ) {
			return array( self::error( 'the language model stopped answering' ) );
		}
		if ( $transport_error ) {
			return array( self::error( 'the connection to the language model broke' ) );
		}
		if ( $this->stop && in_array( $this->stop, self::REFUSED, true ) ) {
			return array( self::error( 'the language model declined to answer (' . strtolower( $this->stop ) . ')' ) );
		}
		if ( 'openai' === $this->provider && ! $this->finished && ! $this->stop ) {
			return array( self::error( 'the language model stream ended early' ) );
		}
		return array( array( 'type' => 'done' ) );
	}

	public function ended(): bool {
		return $this->ended;
	}

	private function event( string $data ): array {
		if ( 'openai' === $this->provider && '[DONE]' === trim( $data ) ) {
			$this->finished = true;
			return array();
		}
		$json = json_decode( $data, true );
		if ( ! is_array( $json ) ) {
			$this->ended = true;
			return array( self::error( 'the language model sent something unreadable' ) );
		}
		if ( isset( $json['error'] ) ) {
			$this->ended = true;
			return array( self::error( 'the language model failed while answering' ) );
		}
		$text = '';
		if ( 'gemini' === $this->provider ) {
			if ( is_string( $json['promptFeedback']['blockReason'] ?? null ) ) {
				$this->stop = $json['promptFeedback']['blockReason'];
			}
			$candidate = $json['candidates'][0] ?? array();
			foreach ( $candidate['content']['parts'] ?? array() as $part ) {
				if ( is_string( $part['text'] ?? null ) && true !== ( $part['thought'] ?? false ) ) {
					$text .= $part['text'];
				}
			}
			if ( is_string( $candidate['finishReason'] ?? null ) ) {
				$this->stop = $candidate['finishReason'];
			}
		} else {
			$choice = $json['choices'][0] ?? array();
			$text   = is_string( $choice['delta']['content'] ?? null ) ? $choice['delta']['content'] : '';
			if ( is_string( $choice['finish_reason'] ?? null ) ) {
				$this->stop = $choice['finish_reason'];
			}
		}
		if ( '' === $text ) {
			return array();
		}
		++$this->deltas;
		return array( array( 'type' => 'delta', 'text' => $text ) );
	}

	private static function error( string $message ): array {
		return array( 'type' => 'error', 'message' => $message, 'recoverable' => true );
	}

	/** One SSE frame of an event. */
	public static function frame( array $event ): string {
		return 'data: ' . wp_json_encode( $event, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES ) . "\n\n";
	}
}

/** Runs one LLM route call against the model with curl and streams it to the browser. */
final class LlmStream {
	/** Seconds without a byte from the model before the stream is called stalled. */
	const STALL_SECONDS = 20;

	/**
	 * Streams the answer and ends the request (`exit`). Before the first byte reaches the browser, a
	 * failure of the model is an ordinary error answer (thrown as HttpError).
	 *
	 * @param array<string, string> $cors the CORS headers of this request
	 */
	public static function run( array $request, string $provider, array $cors, Http $log ): void {
		$relay   = new LlmRelay( $provider );
		$status  = 0;
		$started = false;
		$error   = '';
		$start   = static function () use ( $cors, &$started ) {
			$started = true;
			while ( ob_get_level() > 0 ) {
				ob_end_clean();
			}
			if ( function_exists( 'apache_setenv' ) ) {
				apache_setenv( 'no-gzip', '1' );
			}
			ini_set( 'zlib.output_compression', '0' ); // phpcs:ignore WordPress.PHP.IniSet
			header_remove( 'Content-Length' );
			header( 'Content-Type: text/event-stream; charset=utf-8' );
			header( 'Cache-Control: no-store, no-transform' );
			header( 'X-Accel-Buffering: no' );
			foreach ( $cors as $name => $value ) {
				header( "$name: $value" );
			}
			http_response_code( 200 );
			flush();
		};
		$emit = static function ( array $events ) {
			foreach ( $events as $event ) {
				echo LlmRelay::frame( $event ); // phpcs:ignore WordPress.Security.EscapeOutput -- JSON in an event stream
			}
			if ( $events ) {
				flush();
			}
		};

		// PHP would end the script at the first write to a browser that left, inside curl's callback,
		// leaving the connection to the model open (and the model generating, billed) until the
		// worker's next request. Noticed instead, the callback ends the transfer and curl closes it.
		ignore_user_abort( true );
		$ch = curl_init( $request['url'] );
		curl_setopt_array(
			$ch,
			array(
				CURLOPT_POST             => true,
				CURLOPT_POSTFIELDS       => $request['body'],
				CURLOPT_HTTPHEADER       => $request['headers'],
				CURLOPT_CONNECTTIMEOUT   => 10,
				// A stall: under 1 byte a second for STALL_SECONDS.
				CURLOPT_LOW_SPEED_LIMIT  => 1,
				CURLOPT_LOW_SPEED_TIME   => self::STALL_SECONDS,
				CURLOPT_FOLLOWLOCATION   => false,
				CURLOPT_HEADERFUNCTION   => static function ( $ch, string $line ) use ( &$status ) {
					if ( preg_match( '#^HTTP/\S+\s+(\d{3})#', $line, $m ) ) {
						$status = (int) $m[1];
					}
					return strlen( $line );
				},
				CURLOPT_WRITEFUNCTION    => static function ( $ch, string $chunk ) use ( &$status, &$started, &$error, $start, $emit, $relay ) {
					if ( 200 !== $status ) {
						$error .= $chunk; // the model's error answer: logged, never passed on
						return strlen( $chunk );
					}
					if ( ! $started ) {
						$start();
					}
					$emit( $relay->push( $chunk ) );
					// The browser went away (PHP notices when a write fails): drop the model's request.
					if ( connection_aborted() || $relay->ended() ) {
						return 0;
					}
					return strlen( $chunk );
				},
			)
		);
		$ok        = curl_exec( $ch );
		$errno     = curl_errno( $ch );
		$curl_text = curl_error( $ch );
		curl_close( $ch );

		if ( ! $started ) {
			if ( 0 === $status ) {
				$log->log( $provider, 'stream', 0, $curl_text );
				throw 28 === $errno ? new HttpError( 'upstream_timeout', 'the language model did not answer in time', 5 ) : new HttpError( 'upstream_error', 'the language model could not be reached' );
			}
			if ( 200 !== $status ) {
				$log->log( $provider, 'stream', $status, $error );
				throw ( new UpstreamFailure( 'language model', $status, null, null ) )->to_http();
			}
			$start();
		}
		if ( connection_aborted() ) {
			exit;
		}
		$stalled = CURLE_OPERATION_TIMEDOUT === $errno;
		$broken  = ! $ok && ! $stalled && CURLE_WRITE_ERROR !== $errno ? ( $curl_text ?: 'transfer failed' ) : null;
		if ( $broken || $stalled ) {
			$log->log( $provider, 'stream', $status, $curl_text );
		}
		$emit( $relay->finish( $broken, $stalled ) );
		exit;
	}
}
