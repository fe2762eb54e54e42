-- IVS Chat control plane: rooms, logging configurations, their links and tags,
-- consumed chat tokens, access keys and server secrets. Times are Unix milliseconds.
CREATE TABLE rooms (
	account_id      TEXT    NOT NULL,
	region          TEXT    NOT NULL,
	id              TEXT    NOT NULL,
	name            TEXT    NOT NULL,
	max_rate        INTEGER NOT NULL,
	max_length      INTEGER NOT NULL,
	review_uri      TEXT,
	review_fallback TEXT,
	tags            TEXT    NOT NULL DEFAULT '{}',
	create_time     BIGINT  NOT NULL,
	update_time     BIGINT  NOT NULL,
	PRIMARY KEY (account_id, region, id)
);
CREATE INDEX rooms_by_update ON rooms (account_id, region, update_time DESC, id DESC);

CREATE TABLE logging_configurations (
	account_id  TEXT   NOT NULL,
	region      TEXT   NOT NULL,
	id          TEXT   NOT NULL,
	name        TEXT   NOT NULL,
	dest_type   TEXT   NOT NULL,
	dest_name   TEXT   NOT NULL,
	tags        TEXT   NOT NULL DEFAULT '{}',
	create_time BIGINT NOT NULL,
	update_time BIGINT NOT NULL,
	PRIMARY KEY (account_id, region, id)
);

CREATE TABLE room_logging (
	account_id TEXT    NOT NULL,
	region     TEXT    NOT NULL,
	room_id    TEXT    NOT NULL,
	config_id  TEXT    NOT NULL,
	position   INTEGER NOT NULL,
	PRIMARY KEY (account_id, region, room_id, config_id),
	FOREIGN KEY (account_id, region, room_id) REFERENCES rooms (account_id, region, id) ON DELETE CASCADE,
	FOREIGN KEY (account_id, region, config_id) REFERENCES logging_configurations (account_id, region, id) ON DELETE CASCADE
);
CREATE INDEX room_logging_by_config ON room_logging (account_id, region, config_id);

CREATE TABLE consumed_tokens (
	id      TEXT   PRIMARY KEY,
	expires BIGINT NOT NULL
);
CREATE INDEX consumed_tokens_by_expiry ON consumed_tokens (expires);

CREATE TABLE access_keys (
	id          TEXT   PRIMARY KEY,
	secret      TEXT   NOT NULL,
	account_id  TEXT   NOT NULL,
	create_time BIGINT NOT NULL
);

CREATE TABLE secrets (
	name  TEXT     PRIMARY KEY,
	value {{blob}} NOT NULL
);
