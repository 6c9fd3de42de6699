# What is deployed where, side by side.
data "treeherder_app" "app" {
  for_each = toset(["treeherder-prototype", "treeherder-stage", "treeherder-prod"])
  name     = each.key # name or UUID
}

output "deployed" {
  value = {
    for name, app in data.treeherder_app.app : name => {
      release = "v${app.release.version}"
      commit  = app.release.commit
      web     = "${app.process_types["web"].quantity} × ${app.process_types["web"].size}"
    }
  }
}
