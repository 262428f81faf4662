-- sessionkit postgres provider: the table open() creates when it is missing.
-- Replace sessionkit_sessions with your `table` option (it may be schema-qualified).
-- open() runs these two statements in one transaction holding
-- pg_advisory_xact_lock(hashtext('sessionkit:<table>')), so processes starting together do not race.

CREATE TABLE IF NOT EXISTS "sessionkit_sessions" (
  sid        VARCHAR(128) COLLATE "C" PRIMARY KEY,  -- session id, compared byte for byte
  data       TEXT NOT NULL,                         -- the record, opaque to the provider
  expires_at BIGINT NOT NULL                        -- epoch milliseconds from the application clock
);

CREATE INDEX IF NOT EXISTS "sessionkit_sessions_expires_at_idx" ON "sessionkit_sessions" (expires_at);
