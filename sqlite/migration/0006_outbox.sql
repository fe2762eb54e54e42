-- Whether a node is fenced; heartbeats are written by the store's clock.
ALTER TABLE nodes ADD COLUMN fenced INTEGER NOT NULL DEFAULT 0;

-- Commands every node must carry out, written with the change they enforce.
CREATE TABLE outbox (
	seq     INTEGER PRIMARY KEY AUTOINCREMENT,
	id      TEXT    NOT NULL UNIQUE,
	command BLOB    NOT NULL,
	created INTEGER NOT NULL -- Unix milliseconds
);

CREATE TABLE outbox_acks (
	id   TEXT NOT NULL,
	node TEXT NOT NULL,
	PRIMARY KEY (id, node)
);
