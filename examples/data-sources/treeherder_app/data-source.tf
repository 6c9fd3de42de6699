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
      # The keys fit for `treeherder_config_vars`: the add-ons' own (REDIS_URL) left out.
      own_config_var_keys = setsubtract(app.config_var_keys, app.addon_config_var_keys)
    }
  }
}
