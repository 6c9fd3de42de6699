# The temporary instances restored by hand, with the import command of each.
data "treeherder_rds_instances" "dev" {
  identifier_prefix = "treeherder-dev-bug"
}

output "temporary_instances" {
  value = {
    for i in data.treeherder_rds_instances.dev.instances : i.identifier => {
      status   = i.status
      endpoint = i.endpoint
      class    = i.instance_class
      import   = "terraform import treeherder_rds_snapshot_instance.bug_${trimprefix(i.identifier, "treeherder-dev-bug")} ${i.import_id}"
    }
  }
}
