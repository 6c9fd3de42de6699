# A Treeherder app's runtime: its Scheduler jobs, its web formation and its own config vars.
# tests/ shows how to test a module like this one with `terraform test`: unit runs against
# mock_provider "treeherder" (no credentials, no API) and one integration run that applies.

resource "treeherder_scheduler_job" "this" {
  for_each = var.jobs

  app       = var.app
  command   = each.value.command
  frequency = each.value.frequency
  dyno_size = each.value.dyno_size
}

resource "treeherder_formation" "web" {
  app             = var.app
  type            = "web"
  quantity        = var.web.quantity
  size            = var.web.size
  web_concurrency = var.web.web_concurrency
}

resource "treeherder_config_vars" "this" {
  app  = var.app
  vars = var.settings
  # Each secret becomes a nested { value } object, which the provider marks sensitive.
  sensitive_vars = { for name, value in var.secrets : name => { value = value } }
}
