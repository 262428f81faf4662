-- sessionkit mysql provider (MySQL 5.7+ / MariaDB 10.3+): the table open() creates when it is missing.
-- Replace sessionkit_sessions with your `table` option. CREATE TABLE IF NOT EXISTS is atomic,
-- so processes starting together do not race.

CREATE TABLE IF NOT EXISTS `sessionkit_sessions` (
  sid        VARBINARY(128) NOT NULL,                                      -- session id, compared byte for byte
  data       MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, -- the record, up to 16 MiB
  expires_at BIGINT NOT NULL,                                              -- epoch milliseconds from the application clock
  PRIMARY KEY (sid),
  KEY `sessionkit_sessions_expires_at_idx` (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
