# The tables a default treeherder_readonly_user is granted in full.
data "treeherder_mysql_tables" "granted" {
  database = "treeherder"
  exclude  = "^(django_|auth_)"
}

# Only the performance tables.
data "treeherder_mysql_tables" "perf" {
  include = "^perf"
}

output "granted_tables" {
  value = data.treeherder_mysql_tables.granted.names
}
