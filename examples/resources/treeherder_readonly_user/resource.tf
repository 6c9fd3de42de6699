# A read-only account for Mozilla's Redash, created on the PRIMARY instance (it replicates to
# treeherder-prod-ro). Hand out the replica's hostname, never the primary's.
variable "redash_password" {
  type        = string
  sensitive   = true
  description = "At least 30 characters of A-Z a-z 0-9 - _ . ~ ! $ & ( ) * + , ; = (e.g. python3 -c 'import secrets; print(secrets.token_hex(30))')."
}

resource "treeherder_readonly_user" "redash" {
  name     = "redash"
  password = var.redash_password

  # The defaults, spelled out: TLS required, every table but Django's and auth's, and only
  # id/username/email of auth_user.
  host           = "%"
  require_ssl    = true
  exclude_tables = "^(django_|auth_)"
  column_grants  = { auth_user = ["id", "username", "email"] }
}
