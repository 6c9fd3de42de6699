# Who can do what on each app, with the import command of each collaborator. A
# `treeherder_app_collaborator` with the listed email and permissions (none on a personal
# app), imported by the listed id, plans no change.
data "treeherder_app_collaborators" "app" {
  for_each = toset(["treeherder-prototype", "treeherder-stage", "treeherder-prod"])
  app      = each.key # name or UUID
}

output "collaborators" {
  value = {
    for app, listed in data.treeherder_app_collaborators.app : app => {
      for c in listed.collaborators : c.email => c.permissions
    }
  }
}

output "import_ids" {
  value = flatten([
    for listed in data.treeherder_app_collaborators.app : listed.collaborators[*].import_id
  ])
}
