-- What each host runs, from its NodeInfo, so a community sends each
-- follower's host the one Announce shape it shows: family 'microblog'
-- (Mastodon, GoToSocial, …: the Announce of the object), 'group'
-- (Lemmy, PieFed, …: the Announce of the activity), '' not known (both).
CREATE TABLE host_software (
	host TEXT PRIMARY KEY,
	name TEXT NOT NULL DEFAULT '',
	family TEXT NOT NULL DEFAULT '' CHECK (family IN ('microblog', 'group', '')),
	checked_at INTEGER NOT NULL
);
