-- Chime accounts and users. Indexed columns are those queries filter or
-- sort on; the rest of each record is JSON in data.
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
	email          TEXT   NOT NULL, -- lower-cased; '' when none
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
	seq            {{serial}},
	aws_account_id TEXT   NOT NULL,
	id             TEXT   NOT NULL,
	time           BIGINT NOT NULL,
	data           TEXT   NOT NULL
);
CREATE INDEX audit_by_account ON audit (aws_account_id, seq);
