# Rotating the MySQL password of treeherder-stage's DATABASE_URL with Terraform 1.0-1.10:
# the new password comes from a variable and is kept in the state as a sensitive value
# (hidden in plans and logs). With Terraform >= 1.11 prefer ../rotate-password-write-only.
#
#   TF_VAR_th_admin_password="$(python3 -c 'import secrets; print(secrets.token_hex(30))')" \
#     terraform apply

terraform {
  required_providers {
    treeherder = {
      source = "treeherder/treeherder"
    }
  }
}

# Settings from the environment: HEROKU_API_KEY, TREEHERDER_MYSQL_*.
provider "treeherder" {}

variable "th_admin_password" {
  type        = string
  sensitive   = true
  description = "At least 30 characters of A-Z a-z 0-9 - _ . ~ ! $ & ( ) * + , ; = (no %, @, /, #, :)."
}

resource "treeherder_database_password" "stage" {
  app      = "treeherder-stage"
  username = "th_admin"
  password = var.th_admin_password
}

output "rotated_at" {
  value = treeherder_database_password.stage.rotated_at
}
