# The runbook's "Creating a temporary instance" as a root module (Terraform >= 1.11): a copy of
# treeherder-prod's latest automated snapshot for one bug, with a new master password that is
# sent to RDS only (a write-only attribute: in neither the state nor a saved plan).
#
#   terraform apply -var bug=1469837 -var security_group_id=sg-...
#   terraform destroy -var bug=1469837 -var security_group_id=sg-...   # when the bug is closed
#
# Nothing keeps the password, so nobody can read it back. To connect to the instance
# yourself, pass one you keep (30 to 41 characters of A-Z a-z 0-9 - _ . ~):
#
#   TF_VAR_master_password="$(pwgen -s 40 1)" terraform apply -var bug=... -var security_group_id=...
#
# and build DATABASE_URL from it and the `endpoint` output (the `database_url` output is the
# same URL without the password part):
#
#   export DATABASE_URL='mysql://th_admin:PASSWORD@ENDPOINT/treeherder'

terraform {
  required_version = ">= 1.11"
  required_providers {
    treeherder = {
      source = "treeherder/treeherder"
    }
  }
}

# Credentials from the standard AWS chain (AWS_PROFILE, AWS_ACCESS_KEY_ID, ...).
provider "treeherder" {
  aws {
    region = "us-east-1"
  }
}

variable "bug" {
  type        = number
  description = "The bug the instance is for; it names the instance and is tagged on it."
}

variable "security_group_id" {
  type        = string
  description = "Id of treeherder_heroku-sg (RDS takes ids, not names)."
}

variable "master_password" {
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true # used for this run only, never saved
  description = "A master password you keep; unset: a random one nobody learns."
}

variable "master_password_version" {
  type        = number
  default     = 1
  description = "Bump to set the master password again."
}

ephemeral "treeherder_password" "master" {
  length = 40 # RDS for MySQL takes at most 41 characters
}

resource "treeherder_rds_snapshot_instance" "temporary" {
  identifier      = "treeherder-dev-bug${var.bug}"
  source_instance = "treeherder-prod"
  snapshot_type   = "automated"

  instance_class         = "db.m4.xlarge"
  db_subnet_group_name   = "treeherder-dbgrp"
  publicly_accessible    = true
  parameter_group_name   = "treeherder-mysql57"
  vpc_security_group_ids = [var.security_group_id]

  master_password_wo         = coalesce(var.master_password, ephemeral.treeherder_password.master.result)
  master_password_wo_version = var.master_password_version

  bug                 = var.bug
  skip_final_snapshot = true

  timeouts {
    create = "60m"
  }
}

output "endpoint" {
  description = "host:port of the new instance."
  value       = treeherder_rds_snapshot_instance.temporary.endpoint
}

output "restored_snapshot_id" {
  description = "The snapshot the instance was restored from."
  value       = treeherder_rds_snapshot_instance.temporary.restored_snapshot_id
}

output "database_url" {
  description = "DATABASE_URL without its password part: insert `:PASSWORD` after the user."
  value       = treeherder_rds_snapshot_instance.temporary.database_url
  sensitive   = true
}
