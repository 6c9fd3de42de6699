variable "admin_password" {
  type      = string
  sensitive = true
}

variable "database_url" {
  type      = string
  sensitive = true
}

# The DATABASE_URL of a temporary instance restored from a snapshot (the runbook's
# mysql://th_admin:PASSWORD@HOSTNAME/treeherder). The result is sensitive because the
# password is.
output "temporary_database_url" {
  sensitive = true
  value = provider::treeherder::database_url(null, {
    username = "th_admin"
    password = var.admin_password
    host     = "treeherder-tmp.abc123.us-east-1.rds.amazonaws.com"
    database = "treeherder"
  })
}

# The same URL pointing at another host; every other part is kept.
output "moved_database_url" {
  sensitive = true
  value = provider::treeherder::database_url(var.database_url, {
    host = "treeherder-stage.abc123.us-east-1.rds.amazonaws.com"
  })
}
