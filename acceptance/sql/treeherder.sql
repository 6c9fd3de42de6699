-- A fixture shaped like Mozilla Treeherder's MySQL schema just before MySQL support was removed:
-- the 8 Django contrib tables (auth + contenttypes) and the 50 application tables of the model,
-- perf and changelog apps, including the reserved-word tables `group` and `option`.
-- Columns follow the Django models closely enough for grant tests; it is not a migration dump.
-- Idempotent: safe to load into a server that already has it.

CREATE DATABASE IF NOT EXISTS `treeherder` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
USE `treeherder`;

-- ---------------------------------------------------------------- django contrib (auth, contenttypes)
CREATE TABLE IF NOT EXISTS `django_content_type` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `app_label` varchar(100) NOT NULL,
  `model` varchar(100) NOT NULL,
  UNIQUE KEY `django_content_type_app_label_model_uniq` (`app_label`, `model`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `django_migrations` (
  `id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `app` varchar(255) NOT NULL,
  `name` varchar(255) NOT NULL,
  `applied` datetime(6) NOT NULL
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `auth_permission` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `name` varchar(255) NOT NULL,
  `content_type_id` int NOT NULL,
  `codename` varchar(100) NOT NULL,
  UNIQUE KEY `auth_permission_content_type_id_codename_uniq` (`content_type_id`, `codename`),
  CONSTRAINT `auth_permission_content_type_fk` FOREIGN KEY (`content_type_id`) REFERENCES `django_content_type` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `auth_group` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `name` varchar(150) NOT NULL UNIQUE
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `auth_group_permissions` (
  `id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `group_id` int NOT NULL,
  `permission_id` int NOT NULL,
  UNIQUE KEY `auth_group_permissions_group_id_permission_id_uniq` (`group_id`, `permission_id`),
  CONSTRAINT `auth_group_permissions_group_fk` FOREIGN KEY (`group_id`) REFERENCES `auth_group` (`id`),
  CONSTRAINT `auth_group_permissions_permission_fk` FOREIGN KEY (`permission_id`) REFERENCES `auth_permission` (`id`)
) ENGINE=InnoDB;

-- Django 4.1's default user model (treeherder pinned Django 4.1.13).
CREATE TABLE IF NOT EXISTS `auth_user` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `password` varchar(128) NOT NULL,
  `last_login` datetime(6) NULL,
  `is_superuser` tinyint(1) NOT NULL,
  `username` varchar(150) NOT NULL UNIQUE,
  `first_name` varchar(150) NOT NULL,
  `last_name` varchar(150) NOT NULL,
  `email` varchar(254) NOT NULL,
  `is_staff` tinyint(1) NOT NULL,
  `is_active` tinyint(1) NOT NULL,
  `date_joined` datetime(6) NOT NULL
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `auth_user_groups` (
  `id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `user_id` int NOT NULL,
  `group_id` int NOT NULL,
  UNIQUE KEY `auth_user_groups_user_id_group_id_uniq` (`user_id`, `group_id`),
  CONSTRAINT `auth_user_groups_user_fk` FOREIGN KEY (`user_id`) REFERENCES `auth_user` (`id`),
  CONSTRAINT `auth_user_groups_group_fk` FOREIGN KEY (`group_id`) REFERENCES `auth_group` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `auth_user_user_permissions` (
  `id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `user_id` int NOT NULL,
  `permission_id` int NOT NULL,
  UNIQUE KEY `auth_user_user_permissions_user_id_permission_id_uniq` (`user_id`, `permission_id`),
  CONSTRAINT `auth_user_user_permissions_user_fk` FOREIGN KEY (`user_id`) REFERENCES `auth_user` (`id`),
  CONSTRAINT `auth_user_user_permissions_permission_fk` FOREIGN KEY (`permission_id`) REFERENCES `auth_permission` (`id`)
) ENGINE=InnoDB;

-- ---------------------------------------------------------------- model app
CREATE TABLE IF NOT EXISTS `product` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `name` varchar(50) NOT NULL UNIQUE,
  `description` longtext NOT NULL
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `build_platform` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `os_name` varchar(25) NOT NULL,
  `platform` varchar(100) NOT NULL,
  `architecture` varchar(25) NOT NULL,
  UNIQUE KEY `build_platform_uniq` (`os_name`, `platform`, `architecture`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `option` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `name` varchar(50) NOT NULL UNIQUE,
  `description` longtext NOT NULL
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `repository_group` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `name` varchar(50) NOT NULL UNIQUE,
  `description` longtext NOT NULL
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `repository` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `repository_group_id` int NOT NULL,
  `name` varchar(50) NOT NULL UNIQUE,
  `dvcs_type` varchar(25) NOT NULL,
  `url` varchar(255) NOT NULL,
  `branch` varchar(255) NULL,
  `codebase` varchar(50) NOT NULL,
  `description` longtext NOT NULL,
  `active_status` varchar(7) NOT NULL,
  `life_cycle_order` int NULL,
  `performance_alerts_enabled` tinyint(1) NOT NULL,
  `expire_performance_data` tinyint(1) NOT NULL,
  `is_try_repo` tinyint(1) NOT NULL,
  `tc_root_url` varchar(255) NOT NULL,
  CONSTRAINT `repository_repository_group_fk` FOREIGN KEY (`repository_group_id`) REFERENCES `repository_group` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `push` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `repository_id` int NOT NULL,
  `revision` varchar(40) NOT NULL,
  `author` varchar(150) NOT NULL,
  `time` datetime(6) NOT NULL,
  UNIQUE KEY `push_repository_id_revision_uniq` (`repository_id`, `revision`),
  CONSTRAINT `push_repository_fk` FOREIGN KEY (`repository_id`) REFERENCES `repository` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `commit` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `push_id` int NOT NULL,
  `revision` varchar(40) NOT NULL,
  `author` varchar(150) NOT NULL,
  `comments` longtext NOT NULL,
  UNIQUE KEY `commit_push_id_revision_uniq` (`push_id`, `revision`),
  CONSTRAINT `commit_push_fk` FOREIGN KEY (`push_id`) REFERENCES `push` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `machine_platform` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `os_name` varchar(25) NOT NULL,
  `platform` varchar(100) NOT NULL,
  `architecture` varchar(25) NOT NULL,
  UNIQUE KEY `machine_platform_uniq` (`os_name`, `platform`, `architecture`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `bugscache` (
  `id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `bugzilla_id` bigint NULL UNIQUE,
  `status` varchar(64) NOT NULL,
  `resolution` varchar(64) NOT NULL,
  `summary` varchar(255) NOT NULL,
  `dupe_of` bigint NULL,
  `crash_signature` longtext NOT NULL,
  `keywords` longtext NOT NULL,
  `whiteboard` varchar(100) NOT NULL,
  `modified` datetime(6) NOT NULL,
  `processed_update` tinyint(1) NOT NULL,
  `occurrences` int NULL,
  FULLTEXT KEY `bugscache_summary_idx` (`summary`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `bugzilla_component` (
  `id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `product` varchar(60) NOT NULL,
  `component` varchar(60) NOT NULL,
  UNIQUE KEY `bugzilla_component_uniq` (`product`, `component`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `file_bugzilla_component` (
  `id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `path` varchar(255) NOT NULL UNIQUE,
  `bugzilla_component_id` bigint NOT NULL,
  CONSTRAINT `file_bugzilla_component_fk` FOREIGN KEY (`bugzilla_component_id`) REFERENCES `bugzilla_component` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `bugzilla_security_group` (
  `id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `product` varchar(60) NOT NULL UNIQUE,
  `security_group` varchar(60) NOT NULL
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `machine` (
  `id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `name` varchar(50) NOT NULL UNIQUE
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `job_group` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `symbol` varchar(25) NOT NULL,
  `name` varchar(100) NOT NULL,
  `description` longtext NOT NULL,
  UNIQUE KEY `job_group_name_symbol_uniq` (`name`, `symbol`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `option_collection` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `option_collection_hash` varchar(40) NOT NULL,
  `option_id` int NOT NULL,
  UNIQUE KEY `option_collection_uniq` (`option_collection_hash`, `option_id`),
  CONSTRAINT `option_collection_option_fk` FOREIGN KEY (`option_id`) REFERENCES `option` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `job_type` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `symbol` varchar(25) NOT NULL,
  `name` varchar(140) NOT NULL,
  `description` longtext NOT NULL,
  UNIQUE KEY `job_type_name_symbol_uniq` (`name`, `symbol`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `failure_classification` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `name` varchar(50) NOT NULL UNIQUE
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `reference_data_signatures` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `name` varchar(255) NOT NULL,
  `signature` varchar(50) NOT NULL,
  `build_os_name` varchar(25) NOT NULL,
  `build_platform` varchar(100) NOT NULL,
  `build_architecture` varchar(25) NOT NULL,
  `machine_os_name` varchar(25) NOT NULL,
  `machine_platform` varchar(100) NOT NULL,
  `machine_architecture` varchar(25) NOT NULL,
  `job_group_name` varchar(100) NOT NULL,
  `job_group_symbol` varchar(25) NOT NULL,
  `job_type_name` varchar(255) NOT NULL,
  `job_type_symbol` varchar(25) NOT NULL,
  `option_collection_hash` varchar(64) NULL,
  `build_system_type` varchar(25) NOT NULL,
  `repository` varchar(50) NOT NULL,
  `first_submission_timestamp` int NOT NULL,
  UNIQUE KEY `reference_data_signatures_uniq` (`name`, `signature`, `build_system_type`, `repository`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `job` (
  `id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `repository_id` int NOT NULL,
  `guid` varchar(50) NOT NULL UNIQUE,
  `project_specific_id` int UNSIGNED NULL,
  `autoclassify_status` int NOT NULL,
  `coalesced_to_guid` varchar(50) NULL,
  `signature_id` int NOT NULL,
  `build_platform_id` int NOT NULL,
  `machine_platform_id` int NOT NULL,
  `machine_id` bigint NOT NULL,
  `option_collection_hash` varchar(64) NOT NULL,
  `job_type_id` int NOT NULL,
  `job_group_id` int NOT NULL,
  `product_id` int NOT NULL,
  `failure_classification_id` int NOT NULL,
  `who` varchar(50) NOT NULL,
  `reason` varchar(125) NOT NULL,
  `result` varchar(25) NOT NULL,
  `state` varchar(25) NOT NULL,
  `submit_time` datetime(6) NOT NULL,
  `start_time` datetime(6) NOT NULL,
  `end_time` datetime(6) NOT NULL,
  `last_modified` datetime(6) NOT NULL,
  `running_eta` int NULL,
  `tier` int UNSIGNED NOT NULL,
  `push_id` int NOT NULL,
  KEY `job_repository_id_last_modified_idx` (`repository_id`, `last_modified`),
  CONSTRAINT `job_repository_fk` FOREIGN KEY (`repository_id`) REFERENCES `repository` (`id`),
  CONSTRAINT `job_push_fk` FOREIGN KEY (`push_id`) REFERENCES `push` (`id`),
  CONSTRAINT `job_signature_fk` FOREIGN KEY (`signature_id`) REFERENCES `reference_data_signatures` (`id`),
  CONSTRAINT `job_failure_classification_fk` FOREIGN KEY (`failure_classification_id`) REFERENCES `failure_classification` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `taskcluster_metadata` (
  `job_id` bigint NOT NULL PRIMARY KEY,
  `task_id` varchar(22) NOT NULL,
  `retry_id` int UNSIGNED NOT NULL,
  KEY `taskcluster_metadata_task_id_idx` (`task_id`),
  CONSTRAINT `taskcluster_metadata_job_fk` FOREIGN KEY (`job_id`) REFERENCES `job` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `job_log` (
  `id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `job_id` bigint NOT NULL,
  `name` varchar(50) NOT NULL,
  `url` varchar(255) NOT NULL,
  `status` int NOT NULL,
  UNIQUE KEY `job_log_job_id_name_url_uniq` (`job_id`, `name`, `url`),
  CONSTRAINT `job_log_job_fk` FOREIGN KEY (`job_id`) REFERENCES `job` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `bug_job_map` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `job_id` bigint NOT NULL,
  `bug_id` bigint NULL,
  `internal_bug_id` bigint NULL,
  `created` datetime(6) NOT NULL,
  `user_id` int NULL,
  CONSTRAINT `bug_job_map_job_fk` FOREIGN KEY (`job_id`) REFERENCES `job` (`id`),
  CONSTRAINT `bug_job_map_user_fk` FOREIGN KEY (`user_id`) REFERENCES `auth_user` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `job_note` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `job_id` bigint NOT NULL,
  `failure_classification_id` int NULL,
  `user_id` int NULL,
  `text` longtext NOT NULL,
  `created` datetime(6) NOT NULL,
  CONSTRAINT `job_note_job_fk` FOREIGN KEY (`job_id`) REFERENCES `job` (`id`),
  CONSTRAINT `job_note_user_fk` FOREIGN KEY (`user_id`) REFERENCES `auth_user` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `failure_line` (
  `id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `job_guid` varchar(50) NOT NULL,
  `repository_id` int NOT NULL,
  `job_log_id` bigint NULL,
  `action` varchar(11) NOT NULL,
  `line` int UNSIGNED NOT NULL,
  `test` longtext NULL,
  `subtest` longtext NULL,
  `status` varchar(7) NOT NULL,
  `expected` varchar(7) NULL,
  `message` longtext NULL,
  `signature` longtext NULL,
  `level` varchar(8) NULL,
  `stack` longtext NULL,
  `stackwalk_stdout` longtext NULL,
  `stackwalk_stderr` longtext NULL,
  `best_classification_id` bigint NULL,
  `best_is_verified` tinyint(1) NOT NULL,
  `created` datetime(6) NOT NULL,
  `modified` datetime(6) NOT NULL,
  UNIQUE KEY `failure_line_job_log_id_line_uniq` (`job_log_id`, `line`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `group` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `name` varchar(255) NOT NULL UNIQUE
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `group_status` (
  `id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `status` smallint UNSIGNED NOT NULL,
  `duration` int NOT NULL,
  `job_log_id` bigint NOT NULL,
  `group_id` int NOT NULL,
  CONSTRAINT `group_status_group_fk` FOREIGN KEY (`group_id`) REFERENCES `group` (`id`),
  CONSTRAINT `group_status_job_log_fk` FOREIGN KEY (`job_log_id`) REFERENCES `job_log` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `classified_failure` (
  `id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `bug_number` int UNSIGNED NULL UNIQUE,
  `created` datetime(6) NOT NULL,
  `modified` datetime(6) NOT NULL
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `text_log_step` (
  `id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `job_id` bigint NOT NULL,
  `name` varchar(200) NOT NULL,
  `started` datetime(6) NULL,
  `finished` datetime(6) NULL,
  `started_line_number` int UNSIGNED NOT NULL,
  `finished_line_number` int UNSIGNED NOT NULL,
  `result` smallint UNSIGNED NOT NULL,
  UNIQUE KEY `text_log_step_uniq` (`job_id`, `started_line_number`, `finished_line_number`),
  CONSTRAINT `text_log_step_job_fk` FOREIGN KEY (`job_id`) REFERENCES `job` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `text_log_error` (
  `id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `job_id` bigint NOT NULL,
  `line` longtext NOT NULL,
  `line_number` int UNSIGNED NOT NULL,
  `new_failure` tinyint(1) NOT NULL,
  UNIQUE KEY `text_log_error_job_id_line_number_uniq` (`job_id`, `line_number`),
  CONSTRAINT `text_log_error_job_fk` FOREIGN KEY (`job_id`) REFERENCES `job` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `text_log_error_metadata` (
  `text_log_error_id` bigint NOT NULL PRIMARY KEY,
  `failure_line_id` bigint NULL UNIQUE,
  `best_classification_id` bigint NULL,
  `best_is_verified` tinyint(1) NOT NULL,
  CONSTRAINT `text_log_error_metadata_error_fk` FOREIGN KEY (`text_log_error_id`) REFERENCES `text_log_error` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `text_log_error_match` (
  `id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `text_log_error_id` bigint NOT NULL,
  `classified_failure_id` bigint NOT NULL,
  `matcher_name` varchar(255) NOT NULL,
  `score` decimal(3, 2) NULL,
  UNIQUE KEY `text_log_error_match_uniq` (`text_log_error_id`, `classified_failure_id`, `matcher_name`),
  CONSTRAINT `text_log_error_match_error_fk` FOREIGN KEY (`text_log_error_id`) REFERENCES `text_log_error` (`id`),
  CONSTRAINT `text_log_error_match_cf_fk` FOREIGN KEY (`classified_failure_id`) REFERENCES `classified_failure` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `investigated_tests` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `test` varchar(350) NOT NULL,
  `job_type_id` int NOT NULL,
  `push_id` int NOT NULL,
  UNIQUE KEY `investigated_tests_uniq` (`job_type_id`, `test`, `push_id`),
  CONSTRAINT `investigated_tests_job_type_fk` FOREIGN KEY (`job_type_id`) REFERENCES `job_type` (`id`),
  CONSTRAINT `investigated_tests_push_fk` FOREIGN KEY (`push_id`) REFERENCES `push` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `mozci_classification` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `push_id` int NOT NULL,
  `result` varchar(3) NOT NULL,
  `created` datetime(6) NOT NULL,
  `task_id` varchar(22) NOT NULL UNIQUE,
  CONSTRAINT `mozci_classification_push_fk` FOREIGN KEY (`push_id`) REFERENCES `push` (`id`)
) ENGINE=InnoDB;

-- ---------------------------------------------------------------- perf app
CREATE TABLE IF NOT EXISTS `performance_framework` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `name` varchar(255) NOT NULL UNIQUE,
  `enabled` tinyint(1) NOT NULL
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `performance_signature` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `signature_hash` varchar(40) NOT NULL,
  `repository_id` int NOT NULL,
  `framework_id` int NOT NULL,
  `platform_id` int NOT NULL,
  `option_collection_id` int NOT NULL,
  `suite` varchar(80) NOT NULL,
  `test` varchar(200) NOT NULL,
  `application` varchar(10) NOT NULL,
  `lower_is_better` tinyint(1) NOT NULL,
  `last_updated` datetime(6) NOT NULL,
  `parent_signature_id` int NULL,
  `has_subtests` tinyint(1) NOT NULL,
  `tags` varchar(360) NOT NULL,
  `extra_options` varchar(360) NOT NULL,
  `measurement_unit` varchar(50) NULL,
  `alert_threshold` double NULL,
  `alert_change_type` int NULL,
  `min_back_window` int NULL,
  `max_back_window` int NULL,
  `fore_window` int NULL,
  `should_alert` tinyint(1) NULL,
  `monitor` tinyint(1) NOT NULL,
  `alert_notify_emails` varchar(360) NOT NULL,
  UNIQUE KEY `performance_signature_uniq` (`repository_id`, `framework_id`, `signature_hash`),
  CONSTRAINT `performance_signature_repository_fk` FOREIGN KEY (`repository_id`) REFERENCES `repository` (`id`),
  CONSTRAINT `performance_signature_framework_fk` FOREIGN KEY (`framework_id`) REFERENCES `performance_framework` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `performance_datum` (
  `id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `repository_id` int NOT NULL,
  `signature_id` int NOT NULL,
  `value` double NOT NULL,
  `push_timestamp` datetime(6) NOT NULL,
  `job_id` bigint NULL,
  `push_id` int NOT NULL,
  `ds_job_id` int UNSIGNED NULL,
  `result_set_id` int UNSIGNED NULL,
  KEY `performance_datum_repository_id_signature_id_push_timestamp_idx` (`repository_id`, `signature_id`, `push_timestamp`),
  CONSTRAINT `performance_datum_signature_fk` FOREIGN KEY (`signature_id`) REFERENCES `performance_signature` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `performance_datum_replicate` (
  `id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `performance_datum_id` bigint NOT NULL,
  `value` double NOT NULL,
  CONSTRAINT `performance_datum_replicate_datum_fk` FOREIGN KEY (`performance_datum_id`) REFERENCES `performance_datum` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `perf_multicommitdatum` (
  `perf_datum_id` bigint NOT NULL PRIMARY KEY,
  CONSTRAINT `perf_multicommitdatum_datum_fk` FOREIGN KEY (`perf_datum_id`) REFERENCES `performance_datum` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `issue_tracker` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `name` varchar(255) NOT NULL,
  `task_base_url` varchar(512) NOT NULL
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `performance_alert_summary` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `repository_id` int NOT NULL,
  `framework_id` int NOT NULL,
  `prev_push_id` int NOT NULL,
  `push_id` int NOT NULL,
  `manually_created` tinyint(1) NOT NULL,
  `notes` longtext NULL,
  `assignee_id` int NULL,
  `created` datetime(6) NOT NULL,
  `first_triaged` datetime(6) NULL,
  `last_updated` datetime(6) NULL,
  `status` int NOT NULL,
  `bug_number` int UNSIGNED NULL,
  `bug_due_date` datetime(6) NULL,
  `bug_updated` datetime(6) NULL,
  `issue_tracker_id` int NOT NULL,
  `performance_tags` varchar(360) NULL,
  UNIQUE KEY `performance_alert_summary_uniq` (`repository_id`, `framework_id`, `prev_push_id`, `push_id`),
  CONSTRAINT `performance_alert_summary_assignee_fk` FOREIGN KEY (`assignee_id`) REFERENCES `auth_user` (`id`),
  CONSTRAINT `performance_alert_summary_issue_tracker_fk` FOREIGN KEY (`issue_tracker_id`) REFERENCES `issue_tracker` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `performance_alert` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `summary_id` int NOT NULL,
  `related_summary_id` int NULL,
  `series_signature_id` int NOT NULL,
  `is_regression` tinyint(1) NOT NULL,
  `starred` tinyint(1) NOT NULL,
  `created` datetime(6) NULL,
  `first_triaged` datetime(6) NULL,
  `last_updated` datetime(6) NULL,
  `status` int NOT NULL,
  `amount_pct` double NOT NULL,
  `amount_abs` double NOT NULL,
  `prev_value` double NOT NULL,
  `new_value` double NOT NULL,
  `t_value` double NULL,
  `manually_created` tinyint(1) NOT NULL,
  `classifier_id` int NULL,
  `noise_profile` varchar(30) NOT NULL,
  UNIQUE KEY `performance_alert_uniq` (`summary_id`, `series_signature_id`),
  CONSTRAINT `performance_alert_summary_fk` FOREIGN KEY (`summary_id`) REFERENCES `performance_alert_summary` (`id`),
  CONSTRAINT `performance_alert_signature_fk` FOREIGN KEY (`series_signature_id`) REFERENCES `performance_signature` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `performance_tag` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `name` varchar(30) NOT NULL UNIQUE
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `performance_tag_alert_summaries` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `performancetag_id` int NOT NULL,
  `performancealertsummary_id` int NOT NULL,
  UNIQUE KEY `performance_tag_alert_summaries_uniq` (`performancetag_id`, `performancealertsummary_id`),
  CONSTRAINT `performance_tag_alert_summaries_tag_fk` FOREIGN KEY (`performancetag_id`) REFERENCES `performance_tag` (`id`),
  CONSTRAINT `performance_tag_alert_summaries_summary_fk` FOREIGN KEY (`performancealertsummary_id`) REFERENCES `performance_alert_summary` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `performance_bug_template` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `framework_id` int NOT NULL UNIQUE,
  `keywords` varchar(255) NOT NULL,
  `status_whiteboard` varchar(255) NOT NULL,
  `default_component` varchar(255) NOT NULL,
  `default_product` varchar(255) NOT NULL,
  `cc_list` varchar(255) NOT NULL,
  `text` longtext NOT NULL,
  `critical_text` longtext NOT NULL,
  `no_action_required_text` longtext NOT NULL,
  CONSTRAINT `performance_bug_template_framework_fk` FOREIGN KEY (`framework_id`) REFERENCES `performance_framework` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `backfill_report` (
  `summary_id` int NOT NULL PRIMARY KEY,
  `created` datetime(6) NOT NULL,
  `last_updated` datetime(6) NOT NULL,
  `frozen` tinyint(1) NOT NULL,
  CONSTRAINT `backfill_report_summary_fk` FOREIGN KEY (`summary_id`) REFERENCES `performance_alert_summary` (`id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `backfill_record` (
  `alert_id` int NOT NULL PRIMARY KEY,
  `report_id` int NOT NULL,
  `status` int NOT NULL,
  `context` longtext NOT NULL,
  `job_type_id` int NULL,
  `job_group_id` int NULL,
  `job_tier` int UNSIGNED NULL,
  `job_platform_option` varchar(100) NULL,
  `total_actions_triggered` int UNSIGNED NOT NULL,
  `total_backfills_failed` int UNSIGNED NOT NULL,
  `total_backfills_successful` int UNSIGNED NOT NULL,
  `total_backfills_in_progress` int UNSIGNED NOT NULL,
  `created` datetime(6) NOT NULL,
  `last_updated` datetime(6) NOT NULL,
  CONSTRAINT `backfill_record_alert_fk` FOREIGN KEY (`alert_id`) REFERENCES `performance_alert` (`id`),
  CONSTRAINT `backfill_record_report_fk` FOREIGN KEY (`report_id`) REFERENCES `backfill_report` (`summary_id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `backfill_notification_record` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `record_id` int NOT NULL,
  `created` datetime(6) NOT NULL,
  CONSTRAINT `backfill_notification_record_fk` FOREIGN KEY (`record_id`) REFERENCES `backfill_record` (`alert_id`)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `performance_settings` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `name` varchar(255) NOT NULL,
  `settings` json NOT NULL
) ENGINE=InnoDB;

-- ---------------------------------------------------------------- changelog app
CREATE TABLE IF NOT EXISTS `changelog_entry` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `remote_id` varchar(255) NOT NULL UNIQUE,
  `type` varchar(100) NOT NULL,
  `date` datetime(6) NOT NULL,
  `author` varchar(100) NOT NULL,
  `owner` varchar(100) NOT NULL,
  `project` varchar(100) NOT NULL,
  `project_url` varchar(360) NULL,
  `message` varchar(360) NULL,
  `description` longtext NULL
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `changelog_file` (
  `id` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `name` longtext NOT NULL,
  `changelog_id` int NOT NULL,
  CONSTRAINT `changelog_file_entry_fk` FOREIGN KEY (`changelog_id`) REFERENCES `changelog_entry` (`id`)
) ENGINE=InnoDB;

-- ---------------------------------------------------------------- a little data
-- Rows that grant tests can read (or must fail to read: `password`). The hashes are made up.
INSERT IGNORE INTO `auth_user`
  (`id`, `password`, `last_login`, `is_superuser`, `username`, `first_name`, `last_name`, `email`, `is_staff`, `is_active`, `date_joined`)
VALUES
  (1, 'pbkdf2_sha256$260000$fixturesalt$notarealhashnotarealhashnotarealhash0=', NULL, 1, 'mozilla-ldap/sheriff@example.org', 'Sheriff', 'One', 'sheriff@example.org', 1, 1, '2020-01-02 03:04:05.000000'),
  (2, 'pbkdf2_sha256$260000$fixturesalt$anotherfakehashanotherfakehashanoth=', NULL, 0, 'mozilla-ldap/dev@example.org', 'Dev', 'Two', 'dev@example.org', 0, 1, '2021-06-07 08:09:10.000000');
INSERT IGNORE INTO `repository_group` (`id`, `name`, `description`) VALUES (1, 'development', '');
INSERT IGNORE INTO `repository`
  (`id`, `repository_group_id`, `name`, `dvcs_type`, `url`, `branch`, `codebase`, `description`, `active_status`, `life_cycle_order`, `performance_alerts_enabled`, `expire_performance_data`, `is_try_repo`, `tc_root_url`)
VALUES (1, 1, 'mozilla-central', 'hg', 'https://hg.mozilla.org/mozilla-central', NULL, 'gecko', '', 'active', NULL, 1, 0, 0, 'https://firefox-ci-tc.services.mozilla.com');
INSERT IGNORE INTO `option` (`id`, `name`, `description`) VALUES (1, 'opt', ''), (2, 'debug', '');
INSERT IGNORE INTO `group` (`id`, `name`) VALUES (1, 'dom/base/test/mochitest.ini');
