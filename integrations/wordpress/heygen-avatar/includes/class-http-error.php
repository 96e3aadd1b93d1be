<?php
/**
 * An error answer of the session endpoint: `{"error": {"code", "message"}}` with its HTTP status
 * (docs/broker.md, "Errors"). Upstream error bodies never go into `message`.
 */

namespace HeygenAvatar;

defined( 'ABSPATH' ) || exit;

final class HttpError extends \RuntimeException {
	/** HTTP status of each stable code. */
	const STATUS = array(
		'bad_request'            => 400,
		'invalid_json'           => 400,
		'unauthorized'           => 401,
		'forbidden_origin'       => 403,
		'not_found'              => 404,
		'method_not_allowed'     => 405,
		'payload_too_large'      => 413,
		'unsupported_media_type' => 415,
		'rate_limited'           => 429,
		'too_many_sessions'      => 429,
		'internal_error'         => 500,
		'upstream_error'         => 502,
		'upstream_unauthorized'  => 502,
		'over_capacity'          => 503,
		'upstream_over_capacity' => 503,
		'upstream_rate_limited'  => 503,
		'upstream_timeout'       => 504,
	);

	public function __construct( public readonly string $error_code, string $message, public readonly ?int $retry_after = null ) {
		parent::__construct( $message );
	}

	public function status(): int {
		return self::STATUS[ $this->error_code ] ?? 500;
	}

	/** The JSON body. */
	public function body(): array {
		return array( 'error' => array( 'code' => $this->error_code, 'message' => $this->getMessage() ) );
	}
}
