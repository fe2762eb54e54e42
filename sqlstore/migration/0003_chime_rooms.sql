-- Chime rooms, memberships, bots and room history.
CREATE TABLE chime_rooms (
	aws_account_id TEXT   NOT NULL,
	account_id     TEXT   NOT NULL,
	id             TEXT   NOT NULL,
	client_token   TEXT   NOT NULL, -- '' when none
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
	seq            {{serial}},
	aws_account_id TEXT   NOT NULL,
	account_id     TEXT   NOT NULL,
	room_id        TEXT   NOT NULL,
	create_time    BIGINT NOT NULL,
	data           TEXT   NOT NULL,
	FOREIGN KEY (aws_account_id, account_id, room_id) REFERENCES chime_rooms (aws_account_id, account_id, id) ON DELETE CASCADE
);
CREATE INDEX chime_messages_by_room ON chime_messages (aws_account_id, account_id, room_id, seq);
