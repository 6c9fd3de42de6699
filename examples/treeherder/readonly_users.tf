# The runbook's "Granting access to the read-only replica": the two accounts that read the
# replica, ActiveData and Mozilla's Redash. Each gets SELECT on every table but Django's and
# auth's, SELECT on auth_user (id, username, email) only, and must connect over TLS.
# New tables show up in `terraform plan` as additions to granted_tables.

variable "activedata_mysql_password" {
  type        = string
  sensitive   = true
  description = "Password of the activedata account (>= 30 chars of A-Z a-z 0-9 - _ . ~ ! $ & ( ) * + , ; =)."
  # DEMO VALUE for the local sandbox (`make demo`) only. Real deployments set
  # TF_VAR_activedata_mysql_password from a secret store and delete this default.
  default = "DEMO-ONLY-activedata-sandbox-password-0001"
}

variable "redash_mysql_password" {
  type        = string
  sensitive   = true
  description = "Password of the redash account (>= 30 chars of A-Z a-z 0-9 - _ . ~ ! $ & ( ) * + , ; =)."
  # DEMO VALUE for the local sandbox (`make demo`) only. Real deployments set
  # TF_VAR_redash_mysql_password from a secret store and delete this default.
  default = "DEMO-ONLY-redash-sandbox-password-000000001"
}

resource "treeherder_readonly_user" "activedata" {
  name     = "activedata"
  password = var.activedata_mysql_password
}

resource "treeherder_readonly_user" "redash" {
  name     = "redash"
  password = var.redash_mysql_password
}

output "readonly_user_grant_counts" {
  value = {
    activedata = length(treeherder_readonly_user.activedata.granted_tables)
    redash     = length(treeherder_readonly_user.redash.granted_tables)
  }
}
