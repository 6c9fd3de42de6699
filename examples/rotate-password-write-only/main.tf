# Rotating the MySQL password of treeherder-stage's DATABASE_URL with Terraform >= 1.11:
# an ephemeral random password goes to the write-only `password_wo`, so neither the state nor
# a saved plan ever holds it. Bump `password_wo_version` to rotate again.
#
#   terraform apply -var th_admin_password_version=2

terraform {
  required_version = ">= 1.11"
  required_providers {
    treeherder = {
      source = "treeherder/treeherder"
    }
  }
}

# Settings from the environment: HEROKU_API_KEY, TREEHERDER_MYSQL_* (the mysql block gives the
# TLS settings and the admin login used when DATABASE_URL's password no longer logs in).
provider "treeherder" {}

variable "th_admin_password_version" {
  type        = number
  default     = 1
  description = "Bump to rotate th_admin's password."
}

ephemeral "treeherder_password" "th_admin" {
  length = 40
}

resource "treeherder_database_password" "stage" {
  app                 = "treeherder-stage"
  username            = "th_admin"
  password_wo         = ephemeral.treeherder_password.th_admin.result
  password_wo_version = var.th_admin_password_version
}

output "rotated_at" {
  value = treeherder_database_password.stage.rotated_at
}
