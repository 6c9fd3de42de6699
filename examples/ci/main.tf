# The root module of an infrastructure repository applied from CI (README.md): a Treeherder
# app's Scheduler job and its own config vars. The state lives in PostgreSQL (Terraform's `pg`
# backend), which locks it for the duration of every plan and apply.

terraform {
  required_version = ">= 1.0"

  # The connection string comes from `terraform init -backend-config="conn_str=..."` (the
  # workflows pass $PG_CONN_STR, without a password: libpq's PGPASSWORD holds that, so it is
  # neither in .terraform/ nor in the saved plan uploaded as an artifact).
  backend "pg" {}

  required_providers {
    treeherder = {
      source = "treeherder/treeherder"
    }
  }
}

# Settings from the environment: HEROKU_API_KEY, TREEHERDER_MYSQL_* and AWS credentials
# (the workflows set them from the repository's secrets and through OIDC).
provider "treeherder" {}

resource "treeherder_scheduler_job" "cache_failure_history" {
  app       = var.app
  command   = "./manage.py cache_failure_history"
  frequency = "every_day_at_4:30"
}

resource "treeherder_config_vars" "app" {
  app = var.app

  vars = {
    LOG_LEVEL = "INFO"
  }

  # Plans name the key; the value shows as (sensitive value).
  sensitive_vars = {
    PULSE_AUTH = { value = var.pulse_auth }
  }
}
