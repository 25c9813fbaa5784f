CREATE TABLE `one_time_prekeys` (
	`device_id` text NOT NULL,
	`key_id` integer NOT NULL,
	`public_key` blob NOT NULL,
	`signature` blob NOT NULL,
	PRIMARY KEY(`device_id`, `key_id`),
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `pq_prekeys` (
	`device_id` text NOT NULL,
	`key_id` integer NOT NULL,
	`public_key` blob NOT NULL,
	`signature` blob NOT NULL,
	`last_resort` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`device_id`, `key_id`),
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `signed_prekeys` (
	`device_id` text NOT NULL,
	`key_id` integer NOT NULL,
	`public_key` blob NOT NULL,
	`signature` blob NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`device_id`, `key_id`),
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade
);
