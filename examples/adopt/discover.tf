# What exists, read by the listing data sources: every import id comes from here, none is
# typed by hand.

data "treeherder_app" "app" {
  for_each = var.apps
  name     = each.key
}

data "treeherder_scheduler_jobs" "app" {
  for_each = var.apps
  app      = each.key
}

data "treeherder_app_collaborators" "app" {
  for_each = var.apps
  app      = each.key
}

data "treeherder_mysql_accounts" "readonly" {
  name_regex = var.readonly_accounts
}

data "treeherder_rds_instances" "temporary" {
  identifier_prefix = var.rds_identifier_prefix
}

locals {
  # resource type => { resource name => import id }. Names are the ids made identifiers.
  imports = {
    treeherder_scheduler_job = merge([
      for app, listed in data.treeherder_scheduler_jobs.app : {
        for job in listed.jobs : "${app}_${job.id}" => job.import_id
      }
    ]...)
    # Formations have no listing of their own: the app's process types are its formations.
    treeherder_formation = merge([
      for app, found in data.treeherder_app.app : {
        for type in keys(found.process_types) : "${app}_${type}" => "${app}:${type}"
      }
    ]...)
    treeherder_app_collaborator = merge([
      for app, listed in data.treeherder_app_collaborators.app : {
        for c in listed.collaborators : "${app}_${c.email}" => c.import_id
      }
    ]...)
    # The chosen keys the app has, never an add-on's.
    treeherder_config_vars = {
      for app, found in data.treeherder_app.app : app => "${app}:${join(",", sort(tolist(
        setintersection(var.config_var_keys, setsubtract(found.config_var_keys, found.addon_config_var_keys))
      )))}"
      if length(setintersection(var.config_var_keys, setsubtract(found.config_var_keys, found.addon_config_var_keys))) > 0
    }
    # Only accounts with nothing but SELECT: treeherder_readonly_user refuses the others.
    treeherder_readonly_user = {
      for a in data.treeherder_mysql_accounts.readonly.accounts : a.name => a.import_id if a.select_only
    }
    treeherder_rds_snapshot_instance = {
      for i in data.treeherder_rds_instances.temporary.instances : i.identifier => i.import_id
    }
  }
}

output "import_blocks" {
  description = "One import block per object, for imports.tf (step 1)."
  value = join("", flatten([
    for type, objects in local.imports : [
      for name, id in objects : <<-EOT
        import {
          to = ${type}.${replace(lower(name), "/[^a-z0-9]+/", "_")}
          id = "${id}"
        }

      EOT
    ]
  ]))
}
