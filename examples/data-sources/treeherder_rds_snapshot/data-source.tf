# The snapshot the runbook's "temporary instance from the latest prod snapshot" starts from:
# last night's automated backup of treeherder-prod (one still being taken is skipped).
data "treeherder_rds_snapshot" "nightly" {
  db_instance_identifier = "treeherder-prod"
}

# The newest snapshot of either kind, e.g. a manual one taken before a migration.
data "treeherder_rds_snapshot" "newest" {
  db_instance_identifier = "treeherder-prod"
  snapshot_type          = "any"
}

output "restore_from" {
  value = {
    id      = data.treeherder_rds_snapshot.nightly.id
    taken   = data.treeherder_rds_snapshot.nightly.created_at
    engine  = "${data.treeherder_rds_snapshot.nightly.engine} ${data.treeherder_rds_snapshot.nightly.engine_version}"
    storage = "${data.treeherder_rds_snapshot.nightly.allocated_storage} GiB"
  }
}

output "newest_snapshot_arn" {
  value = data.treeherder_rds_snapshot.newest.arn
}
