-- What the console's charts draw (issue 16): delivery outcomes counted per
-- hour, and the delivery queue's depth sampled per hour (its peak). Rows
-- older than the charts show are deleted when the queue is sampled.
CREATE TABLE delivery_hours (
	hour INTEGER NOT NULL,
	outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'dropped', 'retried', 'failed')),
	count INTEGER NOT NULL,
	PRIMARY KEY (hour, outcome)
);

CREATE TABLE queue_depth_hours (
	hour INTEGER PRIMARY KEY,
	depth INTEGER NOT NULL
);

-- Posts per community and day, for the community chart.
CREATE INDEX posts_community_published ON posts (community_id, published);
