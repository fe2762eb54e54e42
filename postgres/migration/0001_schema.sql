-- parley's schema on PostgreSQL: the same tables as the SQLite store.
-- Times are Unix milliseconds; the rest of a Chime record is JSON in data.
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
	name  TEXT  PRIMARY KEY,
	value BYTEA NOT NULL
);

CREATE TABLE chime_accounts (
	aws_account_id TEXT   NOT NULL,
	id             TEXT   NOT NULL,
	name           TEXT   NOT NULL,
	create_time    BIGINT NOT NULL,
	data           TEXT   NOT NULL,
	PRIMARY KEY (aws_account_id, id)
);
CREATE INDEX chime_accounts_by_time ON chime_accounts (aws_account_id, create_time, id);

CREATE TABLE chime_users (
	aws_account_id TEXT   NOT NULL,
	account_id     TEXT   NOT NULL,
	id             TEXT   NOT NULL,
	email          TEXT   NOT NULL,
	user_type      TEXT   NOT NULL,
	status         TEXT   NOT NULL,
	create_time    BIGINT NOT NULL,
	data           TEXT   NOT NULL,
	PRIMARY KEY (aws_account_id, account_id, id),
	FOREIGN KEY (aws_account_id, account_id) REFERENCES chime_accounts (aws_account_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX chime_users_by_email ON chime_users (aws_account_id, account_id, email) WHERE email <> '';
CREATE INDEX chime_users_by_time ON chime_users (aws_account_id, account_id, create_time, id);
CREATE INDEX chime_users_by_any_email ON chime_users (aws_account_id, email);

CREATE TABLE audit (
	seq            BIGSERIAL PRIMARY KEY,
	aws_account_id TEXT   NOT NULL,
	id             TEXT   NOT NULL,
	time           BIGINT NOT NULL,
	data           TEXT   NOT NULL
);
CREATE INDEX audit_by_account ON audit (aws_account_id, seq);

CREATE TABLE chime_rooms (
	aws_account_id TEXT   NOT NULL,
	account_id     TEXT   NOT NULL,
	id             TEXT   NOT NULL,
	client_token   TEXT   NOT NULL,
	create_time    BIGINT NOT NULL,
	data           TEXT   NOT NULL,
	PRIMARY KEY (aws_account_id, account_id, id),
	FOREIGN KEY (aws_account_id, account_id) REFERENCES chime_accounts (aws_account_id, id) ON DELETE CASCADE
);
CREATE INDEX chime_rooms_by_time ON chime_rooms (aws_account_id, account_id, create_time, id);
CREATE UNIQUE INDEX chime_rooms_by_token ON chime_rooms (aws_account_id, account_id, client_token) WHERE client_token <> '';

CREATE TABLE chime_memberships (
	aws_account_id TEXT NOT NULL,
	account_id     TEXT NOT NULL,
	room_id        TEXT NOT NULL,
	member_id      TEXT NOT NULL,
	member_type    TEXT NOT NULL,
	data           TEXT NOT NULL,
	PRIMARY KEY (aws_account_id, account_id, room_id, member_id),
	FOREIGN KEY (aws_account_id, account_id, room_id) REFERENCES chime_rooms (aws_account_id, account_id, id) ON DELETE CASCADE
);
CREATE INDEX chime_memberships_by_member ON chime_memberships (aws_account_id, account_id, member_id);

CREATE TABLE chime_bots (
	aws_account_id TEXT   NOT NULL,
	account_id     TEXT   NOT NULL,
	id             TEXT   NOT NULL,
	token          TEXT   NOT NULL,
	create_time    BIGINT NOT NULL,
	data           TEXT   NOT NULL,
	PRIMARY KEY (aws_account_id, account_id, id),
	FOREIGN KEY (aws_account_id, account_id) REFERENCES chime_accounts (aws_account_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX chime_bots_by_token ON chime_bots (token);
CREATE INDEX chime_bots_by_time ON chime_bots (aws_account_id, account_id, create_time, id);

CREATE TABLE chime_messages (
	seq            BIGSERIAL PRIMARY KEY,
	aws_account_id TEXT   NOT NULL,
	account_id     TEXT   NOT NULL,
	room_id        TEXT   NOT NULL,
	create_time    BIGINT NOT NULL,
	data           TEXT   NOT NULL,
	FOREIGN KEY (aws_account_id, account_id, room_id) REFERENCES chime_rooms (aws_account_id, account_id, id) ON DELETE CASCADE
);
CREATE INDEX chime_messages_by_room ON chime_messages (aws_account_id, account_id, room_id, seq);
