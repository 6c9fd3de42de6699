# The GRANT statements a read-only account gets for the database's current tables, for
# review in a plan before treeherder_readonly_user runs them.
data "treeherder_mysql_tables" "all" {
  database = "treeherder"
}

output "redash_grants" {
  value = provider::treeherder::readonly_grants("redash", "%", "treeherder", data.treeherder_mysql_tables.all.names)
}
