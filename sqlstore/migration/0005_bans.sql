-- Bans (parley's extension of IVS Chat). room_id '' bans the user from every
-- room of the account and region; expire_time NULL lasts until deleted.
-- Times are Unix milliseconds.
CREATE TABLE bans (
	account_id  TEXT   NOT NULL,
	region      TEXT   NOT NULL,
	room_id     TEXT   NOT NULL,
	user_id     TEXT   NOT NULL,
	reason      TEXT   NOT NULL,
	create_time BIGINT NOT NULL,
	expire_time BIGINT,
	PRIMARY KEY (account_id, region, user_id, room_id)
);
CREATE INDEX bans_by_time ON bans (account_id, region, create_time);
