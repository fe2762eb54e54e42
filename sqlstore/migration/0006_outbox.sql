-- Whether a node is fenced; heartbeats are written by the store's clock.
ALTER TABLE nodes ADD COLUMN fenced BOOLEAN NOT NULL DEFAULT false;

-- Commands every node must carry out, written with the change they enforce.
CREATE TABLE outbox (
	seq     {{serial}},
	id      TEXT     NOT NULL UNIQUE,
	command {{blob}} NOT NULL,
	created BIGINT   NOT NULL -- Unix milliseconds
);

CREATE TABLE outbox_acks (
	id   TEXT NOT NULL,
	node TEXT NOT NULL,
	PRIMARY KEY (id, node)
);
