# Resetting treeherder-stage to a recent production snapshot, in one reviewed apply
# (Terraform >= 1.11). Bump `requested` to reset again:
#
#   terraform apply -var reset_requested=2026-12-03
#
# One apply then, in this order (each step waits for the previous one through references):
# 1. restores treeherder-stage from treeherder-prod's newest available automated snapshot (the
#    plan names it in `restored_snapshot_id`), with the runbook's class, subnet group, public
#    access, parameter group and security group, rebooting it if its parameter group needs it;
# 2. sets th_admin's password to the one in treeherder-stage's DATABASE_URL (the snapshot
#    brought production's password along): the ephemeral `treeherder_database_url` reads it
#    and it is sent as the write-only master password, so no state or plan file holds it;
# 3. deploys `master` to treeherder-stage, as the runbook says ("perform a deployment of the
#    Heroku app"): the plan names the commit, and the apply waits for the build and for the
#    release phase, where Django's migrations bring the restored schema up to date;
# 4. clears the Redis cache with `./manage.py clear_cache`.
# The next plan is empty. Newer nightly snapshots do not change it: only a new
# `reset_requested` does.

terraform {
  required_version = ">= 1.11"
  required_providers {
    treeherder = {
      source = "treeherder/treeherder"
    }
  }
}

# Settings from the environment: HEROKU_API_KEY, AWS credentials (AWS_PROFILE or
# AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and AWS_REGION.
provider "treeherder" {}

variable "reset_requested" {
  type        = string
  default     = "2026-12-01"
  description = "When the reset was requested (e.g. the bug's date): a new value resets stage again."
}

variable "heroku_security_group_id" {
  type        = string
  default     = "sg-0123456789abcdef0"
  description = "Id of the security group treeherder_heroku-sg."
}

ephemeral "treeherder_database_url" "stage" {
  app = "treeherder-stage"
}

resource "treeherder_rds_snapshot_instance" "stage" {
  identifier             = "treeherder-stage"
  source_instance        = "treeherder-prod"
  instance_class         = "db.m4.xlarge"
  db_subnet_group_name   = "treeherder-dbgrp"
  publicly_accessible    = true
  parameter_group_name   = "treeherder-mysql57"
  vpc_security_group_ids = [var.heroku_security_group_id]
  reset_triggers         = { requested = var.reset_requested }
  skip_final_snapshot    = true

  # The master user is th_admin, the user of DATABASE_URL: its password is DATABASE_URL's.
  master_password_wo         = ephemeral.treeherder_database_url.stage.password
  master_password_wo_version = 1

  timeouts {
    create = "40m"
    delete = "60m"
  }
}

resource "treeherder_deployment" "stage" {
  app      = "treeherder-stage"
  ref      = "master" # the repository the app is linked to (its Deploy tab)
  triggers = treeherder_rds_snapshot_instance.stage.reset_triggers

  timeouts {
    create = "30m"
  }
}

resource "treeherder_one_off_dyno" "clear_cache" {
  app        = "treeherder-stage"
  command    = "./manage.py clear_cache"
  triggers   = treeherder_rds_snapshot_instance.stage.reset_triggers
  depends_on = [treeherder_deployment.stage]

  timeouts {
    create = "30m"
  }
}

output "restored_snapshot" {
  value = treeherder_rds_snapshot_instance.stage.restored_snapshot_id
}
