-- sessionkit mysql provider (MySQL 5.7+ / MariaDB 10.3+): the tables open() creates when they are missing.
-- Replace sessionkit_sessions with your `table` option; the index table is always named after it,
-- <table>_index. CREATE TABLE IF NOT EXISTS is atomic, so processes starting together do not race.

CREATE TABLE IF NOT EXISTS `sessionkit_sessions` (
  sid        VARBINARY(128) NOT NULL,                                      -- session id, compared byte for byte
  data       MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, -- the record, up to 16 MiB
  expires_at BIGINT NOT NULL,                                              -- epoch milliseconds from the application clock
  PRIMARY KEY (sid),
  KEY `sessionkit_sessions_expires_at_idx` (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The index: session ids filed under a key (`user:<id>`, `moved:<sid>`), one row per entry.
CREATE TABLE IF NOT EXISTS `sessionkit_sessions_index` (
  key_hash   BINARY(32) NOT NULL,      -- sha256 of the key's UTF-16LE code units: any key fits a primary key
  sid        VARBINARY(128) NOT NULL,  -- session id filed under the key
  expires_at BIGINT NOT NULL,          -- epoch milliseconds from the application clock
  PRIMARY KEY (key_hash, sid),         -- indexList reads one key's rows through it
  KEY `sessionkit_sessions_index_exp_idx` (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
