-- Username directory search: an FTS5 index over users.username with the trigram tokenizer
-- (substring search, e.g. "lic" finds "alice"), kept in step by triggers. drizzle-kit does
-- not model virtual tables; drizzle.config.ts tells it to leave users_fts* alone.
CREATE VIRTUAL TABLE `users_fts` USING fts5(`username`, content='users', content_rowid='rowid', tokenize='trigram');
--> statement-breakpoint
INSERT INTO `users_fts`(`rowid`, `username`) SELECT `rowid`, `username` FROM `users` WHERE `username` IS NOT NULL;
--> statement-breakpoint
CREATE TRIGGER `users_fts_insert` AFTER INSERT ON `users` WHEN new.`username` IS NOT NULL BEGIN
  INSERT INTO `users_fts`(`rowid`, `username`) VALUES (new.`rowid`, new.`username`);
END;
--> statement-breakpoint
CREATE TRIGGER `users_fts_delete` AFTER DELETE ON `users` WHEN old.`username` IS NOT NULL BEGIN
  INSERT INTO `users_fts`(`users_fts`, `rowid`, `username`) VALUES ('delete', old.`rowid`, old.`username`);
END;
--> statement-breakpoint
CREATE TRIGGER `users_fts_update` AFTER UPDATE OF `username` ON `users` BEGIN
  INSERT INTO `users_fts`(`users_fts`, `rowid`, `username`) SELECT 'delete', old.`rowid`, old.`username` WHERE old.`username` IS NOT NULL;
  INSERT INTO `users_fts`(`rowid`, `username`) SELECT new.`rowid`, new.`username` WHERE new.`username` IS NOT NULL;
END;
