<?php
/**
 * The plugin's records, in two tables of the WordPress database: one row per avatar session
 * (a concurrency slot while it is being created, then the session, keyed by the SHA-256 of its
 * session key) and one row per rate-limit bucket.
 *
 * Why tables and not transients/options: caps and limits must hold while PHP workers run at
 * once, so every check-and-change is one atomic step in the database: slot reservation under a
 * named lock (GET_LOCK), a token bucket as one conditional UPDATE, a claim before a stop as one
 * conditional UPDATE. Transients give no such step, and with a persistent object cache they may
 * live only in the cache and vanish: a lost session record is a paid avatar session nobody stops.
 */

namespace HeygenAvatar;

defined( 'ABSPATH' ) || exit;

final class Store {
	const DB_VERSION = '1';

	public function __construct( private readonly \wpdb $db ) {}

	public function sessions_table(): string {
		return $this->db->prefix . 'heygen_avatar_sessions';
	}

	public function buckets_table(): string {
		return $this->db->prefix . 'heygen_avatar_buckets';
	}

	/** Creates or upgrades the tables (activation, and after an update). */
	public function install(): void {
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		$charset = $this->db->get_charset_collate();
		dbDelta(
			"CREATE TABLE {$this->sessions_table()} (
  ref char(64) NOT NULL,
  session_id varchar(191) NOT NULL DEFAULT '',
  provider varchar(32) NOT NULL DEFAULT '',
  client varchar(64) NOT NULL,
  created_at bigint(20) NOT NULL,
  deadline bigint(20) NOT NULL,
  last_seen bigint(20) NOT NULL,
  slot_until bigint(20) NOT NULL,
  closing_until bigint(20) DEFAULT NULL,
  stop_attempts int(11) NOT NULL DEFAULT 0,
  PRIMARY KEY  (ref),
  KEY slot_until (slot_until),
  KEY client (client)
) $charset;"
		);
		dbDelta(
			"CREATE TABLE {$this->buckets_table()} (
  name varchar(191) NOT NULL,
  tokens double NOT NULL,
  updated_at bigint(20) NOT NULL,
  PRIMARY KEY  (name)
) $charset;"
		);
		update_option( 'heygen_avatar_db_version', self::DB_VERSION, false );
	}

	/**
	 * Takes a slot for a session about to be created: 'ok', or 'total' / 'client' when that cap is
	 * reached. Count and insert happen under one named lock, so concurrent requests cannot both
	 * take the last slot.
	 */
	public function reserve( string $ref, string $client, int $max_total, int $max_client, int $now, int $pending_until ): string {
		$t = $this->sessions_table();
		if ( '1' !== (string) $this->db->get_var( $this->db->prepare( 'SELECT GET_LOCK(%s, 10)', $this->lock_name() ) ) ) {
			throw new HttpError( 'internal_error', 'the session store is busy; try again', 5 );
		}
		try {
			$row = $this->db->get_row( $this->db->prepare( "SELECT COUNT(*) AS total, COALESCE(SUM(client = %s), 0) AS mine FROM $t WHERE slot_until > %d", $client, $now ) ); // phpcs:ignore WordPress.DB
			if ( (int) $row->total >= $max_total ) {
				return 'total';
			}
			if ( (int) $row->mine >= $max_client ) {
				return 'client';
			}
			$this->db->insert( $t, array( 'ref' => $ref, 'client' => $client, 'created_at' => $now, 'deadline' => $pending_until, 'last_seen' => $now, 'slot_until' => $pending_until ) );
			return 'ok';
		} finally {
			$this->db->query( $this->db->prepare( 'SELECT RELEASE_LOCK(%s)', $this->lock_name() ) );
		}
	}

	private function lock_name(): string {
		return $this->db->prefix . 'heygen_avatar_slots';
	}

	/** The created session in its reserved slot; its slot outlives the deadline by `$grace_ms`. */
	public function record( string $ref, string $session_id, string $provider, int $now, int $deadline, int $grace_ms ): void {
		$this->db->update(
			$this->sessions_table(),
			array( 'session_id' => $session_id, 'provider' => $provider, 'created_at' => $now, 'deadline' => $deadline, 'last_seen' => $now, 'slot_until' => $deadline + $grace_ms ),
			array( 'ref' => $ref )
		);
	}

	/** A session due to be stopped again (its first stop failed): the reaper retries it. */
	public function record_orphan( string $ref, string $session_id, string $provider, string $client, int $now, int $grace_ms ): void {
		$this->db->replace(
			$this->sessions_table(),
			array( 'ref' => $ref, 'session_id' => $session_id, 'provider' => $provider, 'client' => $client, 'created_at' => $now, 'deadline' => $now, 'last_seen' => $now, 'slot_until' => $now + $grace_ms, 'stop_attempts' => 1 )
		);
	}

	public function remove( string $ref ): void {
		$this->db->delete( $this->sessions_table(), array( 'ref' => $ref ) );
	}

	/** The open session of a session key hash (not closing, before its deadline), or null. */
	public function open_session( string $ref, int $now ): ?object {
		$t = $this->sessions_table();
		return $this->db->get_row( $this->db->prepare( "SELECT * FROM $t WHERE ref = %s AND session_id <> '' AND closing_until IS NULL AND deadline > %d", $ref, $now ) ) ?: null; // phpcs:ignore WordPress.DB
	}

	/** Any recorded session of a key hash (also one being closed). */
	public function find( string $ref ): ?object {
		$t = $this->sessions_table();
		return $this->db->get_row( $this->db->prepare( "SELECT * FROM $t WHERE ref = %s AND session_id <> ''", $ref ) ) ?: null; // phpcs:ignore WordPress.DB
	}

	public function touch( string $ref, int $now ): void {
		$this->db->update( $this->sessions_table(), array( 'last_seen' => $now ), array( 'ref' => $ref ) );
	}

	/**
	 * Claims a session for stopping, for a lease: true for the one request (or reaper) that gets it.
	 * With `$abandoned_before`, only a session past its deadline or silent since then.
	 */
	public function claim( string $ref, int $now, int $lease_until, ?int $abandoned_before = null ): bool {
		$t     = $this->sessions_table();
		$extra = null === $abandoned_before ? '' : $this->db->prepare( ' AND (deadline <= %d OR last_seen < %d OR closing_until IS NOT NULL)', $now, $abandoned_before );
		$done  = $this->db->query( $this->db->prepare( "UPDATE $t SET closing_until = %d, stop_attempts = stop_attempts + 1 WHERE ref = %s AND session_id <> '' AND (closing_until IS NULL OR closing_until < %d)", $lease_until, $ref, $now ) . $extra ); // phpcs:ignore WordPress.DB
		return 1 === $done;
	}

	/** Session key hashes the reaper should look at; gives back the slots of creations that never finished. */
	public function due( int $now, int $abandoned_before, int $limit = 100 ): array {
		$t = $this->sessions_table();
		$this->db->query( $this->db->prepare( "DELETE FROM $t WHERE session_id = '' AND slot_until < %d", $now ) ); // phpcs:ignore WordPress.DB
		return $this->db->get_results( $this->db->prepare( "SELECT ref, session_id, provider, stop_attempts, deadline FROM $t WHERE session_id <> '' AND (deadline <= %d OR last_seen < %d OR (closing_until IS NOT NULL AND closing_until < %d)) LIMIT %d", $now, $abandoned_before, $now, $limit ) ); // phpcs:ignore WordPress.DB
	}

	/** Open sessions and held slots, for the health route. */
	public function counts( int $now ): array {
		$t   = $this->sessions_table();
		$row = $this->db->get_row( $this->db->prepare( "SELECT SUM(session_id <> '') AS sessions, SUM(slot_until > %d) AS slots FROM $t", $now ) ); // phpcs:ignore WordPress.DB
		if ( null === $row ) {
			throw new HttpError( 'internal_error', 'the session store does not answer', 5 );
		}
		return array( 'sessions' => (int) $row->sessions, 'slots' => (int) $row->slots );
	}

	/**
	 * Takes one token from a bucket (`$per_minute` sustained, `$burst` at once): null when taken,
	 * else the seconds until one is there. One conditional UPDATE: atomic across PHP workers.
	 */
	public function take_token( string $bucket, float $per_minute, int $burst, int $now ): ?int {
		$t    = $this->buckets_table();
		$rate = $per_minute / 60000; // tokens per ms
		$this->db->query( $this->db->prepare( "INSERT IGNORE INTO $t (name, tokens, updated_at) VALUES (%s, %d, %d)", $bucket, $burst, $now ) ); // phpcs:ignore WordPress.DB
		$level = $this->db->prepare( 'LEAST(%d, tokens + GREATEST(0, %d - updated_at) * %f)', $burst, $now, $rate );
		// MySQL assigns left to right: `tokens` is computed from the old `updated_at`.
		$taken = $this->db->query( $this->db->prepare( "UPDATE $t SET tokens = $level - 1, updated_at = GREATEST(updated_at, %d) WHERE name = %s AND $level >= 1", $now, $bucket ) ); // phpcs:ignore WordPress.DB
		if ( 1 === $taken ) {
			return null;
		}
		$tokens = (float) $this->db->get_var( $this->db->prepare( "SELECT $level FROM $t WHERE name = %s", $bucket ) ); // phpcs:ignore WordPress.DB
		return max( 1, (int) ceil( ( 1 - $tokens ) / $rate / 1000 ) );
	}

	/** Drops buckets untouched for an hour (they would be full again anyway). */
	public function prune_buckets( int $now ): void {
		$this->db->query( $this->db->prepare( "DELETE FROM {$this->buckets_table()} WHERE updated_at < %d", $now - 3600000 ) ); // phpcs:ignore WordPress.DB
	}
}
