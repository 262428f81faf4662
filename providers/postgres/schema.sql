-- sessionkit postgres provider: the tables open() creates when they are missing.
-- Replace sessionkit_sessions with your `table` option (it may be schema-qualified); the index
-- table is always named after it, <table>_index, in the same schema.
-- open() runs these four statements in one transaction holding
-- pg_advisory_xact_lock(hashtext('sessionkit:<table>')), so processes starting together do not race.

CREATE TABLE IF NOT EXISTS "sessionkit_sessions" (
  sid        VARCHAR(128) COLLATE "C" PRIMARY KEY,  -- session id, compared byte for byte
  data       TEXT NOT NULL,                         -- the record, opaque to the provider
  expires_at BIGINT NOT NULL                        -- epoch milliseconds from the application clock
);

CREATE INDEX IF NOT EXISTS "sessionkit_sessions_expires_at_idx" ON "sessionkit_sessions" (expires_at);

-- The index: session ids filed under a key (`user:<id>`, `moved:<sid>`), one row per entry.
CREATE TABLE IF NOT EXISTS "sessionkit_sessions_index" (
  key_hash   BYTEA NOT NULL,                        -- sha256 of the key's UTF-16LE code units, 32 bytes
  sid        VARCHAR(128) COLLATE "C" NOT NULL,     -- session id filed under the key
  expires_at BIGINT NOT NULL,                       -- epoch milliseconds from the application clock
  PRIMARY KEY (key_hash, sid)                       -- indexList reads one key's rows through it
);

CREATE INDEX IF NOT EXISTS "sessionkit_sessions_index_exp_idx" ON "sessionkit_sessions_index" (expires_at);
