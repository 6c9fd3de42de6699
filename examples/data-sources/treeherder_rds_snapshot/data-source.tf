# Last night's automated snapshot of treeherder-prod (the newest one that is `available`).
# Note: read at every plan, it moves every night; to restore from it, use
# treeherder_rds_snapshot_instance's `source_instance`, which keeps the snapshot it restored.
data "treeherder_rds_snapshot" "prod_latest" {
  db_instance_identifier = "treeherder-prod"
  snapshot_type          = "automated" # or "manual", "any"
}

output "prod_latest_snapshot" {
  value = "${data.treeherder_rds_snapshot.prod_latest.id} (${data.treeherder_rds_snapshot.prod_latest.created_at})"
}
