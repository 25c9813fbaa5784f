CREATE TABLE `conversation_members` (
	`conversation_id` text NOT NULL,
	`user_id` text NOT NULL,
	`role` text NOT NULL,
	`joined_at` integer NOT NULL,
	PRIMARY KEY(`conversation_id`, `user_id`),
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `conversation_members_user_idx` ON `conversation_members` (`user_id`);--> statement-breakpoint
CREATE TABLE `conversations` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`last_seq` integer DEFAULT 0 NOT NULL,
	`membership_epoch` integer,
	`log_head_hash` text,
	`announcements_only` integer DEFAULT false NOT NULL,
	`info_ciphertext` blob,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `device_receipts` (
	`conversation_id` text NOT NULL,
	`device_id` text NOT NULL,
	`delivered_seq` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`conversation_id`, `device_id`),
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `inbox` (
	`pos` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`device_id` text NOT NULL,
	`sender_user_id` text NOT NULL,
	`sender_device_id` text NOT NULL,
	`envelope` blob NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `inbox_device_idx` ON `inbox` (`device_id`,`pos`);--> statement-breakpoint
CREATE INDEX `inbox_expires_idx` ON `inbox` (`expires_at`);--> statement-breakpoint
CREATE TABLE `key_headers` (
	`message_pos` integer NOT NULL,
	`device_id` text NOT NULL,
	`header` blob NOT NULL,
	PRIMARY KEY(`message_pos`, `device_id`),
	FOREIGN KEY (`message_pos`) REFERENCES `messages`(`pos`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `key_headers_device_idx` ON `key_headers` (`device_id`,`message_pos`);--> statement-breakpoint
CREATE TABLE `member_periods` (
	`conversation_id` text NOT NULL,
	`user_id` text NOT NULL,
	`from_seq` integer NOT NULL,
	`until_seq` integer,
	`from_epoch` integer NOT NULL,
	`until_epoch` integer,
	PRIMARY KEY(`conversation_id`, `user_id`, `from_seq`),
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `member_periods_user_idx` ON `member_periods` (`user_id`);--> statement-breakpoint
CREATE TABLE `membership_log` (
	`pos` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`conversation_id` text NOT NULL,
	`epoch` integer NOT NULL,
	`entry` blob NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `membership_log_epoch_idx` ON `membership_log` (`conversation_id`,`epoch`);--> statement-breakpoint
CREATE TABLE `messages` (
	`pos` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`conversation_id` text NOT NULL,
	`seq` integer NOT NULL,
	`sender_user_id` text NOT NULL,
	`sender_device_id` text NOT NULL,
	`ciphertext` blob,
	`size` integer NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	`deleted_at` integer,
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `messages_id_idx` ON `messages` (`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `messages_conversation_seq_idx` ON `messages` (`conversation_id`,`seq`);--> statement-breakpoint
CREATE INDEX `messages_conversation_pos_idx` ON `messages` (`conversation_id`,`pos`);--> statement-breakpoint
CREATE INDEX `messages_expires_idx` ON `messages` (`expires_at`);--> statement-breakpoint
CREATE TABLE `stream_counters` (
	`name` text PRIMARY KEY NOT NULL,
	`value` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `user_receipts` (
	`conversation_id` text NOT NULL,
	`user_id` text NOT NULL,
	`delivered_seq` integer DEFAULT 0 NOT NULL,
	`read_seq` integer DEFAULT 0 NOT NULL,
	`pos` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`conversation_id`, `user_id`),
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `user_receipts_pos_idx` ON `user_receipts` (`pos`);