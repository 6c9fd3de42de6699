variable "apps" {
  description = "The Heroku apps whose Scheduler jobs, formations, collaborators and config vars are adopted."
  type        = set(string)
  default     = ["treeherder-prototype", "treeherder-stage", "treeherder-prod"]
}

variable "config_var_keys" {
  description = "Config vars to adopt into each app's treeherder_config_vars, where the app has them. Add-on keys (DATABASE_URL, REDIS_URL…) are never adopted; WEB_CONCURRENCY belongs to the web formation (web_concurrency); secrets are better left out: generated.tf would hold their values."
  type        = set(string)
  default     = ["BUGZILLA_API_URL", "NEW_RELIC_APP_NAME", "SITE_URL"]
}

variable "readonly_accounts" {
  description = "Regular expression over MySQL user names: the read-only accounts to adopt (only those with SELECT alone)."
  type        = string
  default     = "^(activedata|redash)$"
}

variable "rds_identifier_prefix" {
  description = "Prefix of the temporary RDS instances to adopt."
  type        = string
  default     = "treeherder-dev-"
}
