-- Nodes sharing this store, with their last heartbeat (Unix milliseconds).
CREATE TABLE nodes (
	id        TEXT   PRIMARY KEY,
	heartbeat BIGINT NOT NULL
);
