# The three Heroku apps: their dynos (the runbook's "see Heroku's scaling documentation"),
# a few config vars (the settings tab / `heroku config`), and what each app runs, side by side
# (the runbook points to an external "What's Deployed" page for that).

locals {
  treeherder_apps = {
    prototype = "treeherder-prototype"
    stage     = "treeherder-stage"
    prod      = "treeherder-prod"
  }

  # The process types of Treeherder's last Procfile (the `release` phase is not a formation):
  # dyno size and count on prototype, stage and prod.
  treeherder_dynos = {
    web                                     = { size = ["Standard-1X", "Standard-2X", "Performance-M"], quantity = [1, 2, 3] }
    celery_scheduler                        = { size = ["Standard-1X", "Standard-1X", "Standard-1X"], quantity = [1, 1, 1] } # must stay at one dyno
    pulse_listener_pushes                   = { size = ["Standard-1X", "Standard-1X", "Standard-1X"], quantity = [1, 1, 1] }
    pulse_listener_tasks                    = { size = ["Standard-1X", "Standard-1X", "Standard-2X"], quantity = [1, 1, 2] }
    worker_store_pulse_data                 = { size = ["Standard-1X", "Standard-2X", "Standard-2X"], quantity = [1, 2, 4] }
    worker_log_parser                       = { size = ["Standard-1X", "Standard-2X", "Performance-M"], quantity = [1, 2, 4] }
    worker_log_parser_fail_raw_sheriffed    = { size = ["Standard-1X", "Standard-1X", "Standard-1X"], quantity = [1, 1, 1] }
    worker_log_parser_fail_raw_unsheriffed  = { size = ["Standard-1X", "Standard-1X", "Standard-1X"], quantity = [1, 1, 1] }
    worker_log_parser_fail_json_sheriffed   = { size = ["Standard-1X", "Standard-1X", "Standard-2X"], quantity = [1, 1, 1] }
    worker_log_parser_fail_json_unsheriffed = { size = ["Standard-1X", "Standard-1X", "Standard-2X"], quantity = [1, 1, 1] }
    worker_misc                             = { size = ["Standard-1X", "Standard-1X", "Standard-2X"], quantity = [1, 1, 2] }
  }

  # gunicorn workers per web dyno (WEB_CONCURRENCY), following each app's web dyno size.
  treeherder_web_concurrency = { prototype = 2, stage = 4, prod = 6 }

  treeherder_formations = merge([
    for i, env in ["prototype", "stage", "prod"] : {
      for type, dynos in local.treeherder_dynos : "${env}/${type}" => {
        env      = env
        type     = type
        size     = dynos.size[i]
        quantity = dynos.quantity[i]
      }
    }
  ]...)
}

resource "treeherder_formation" "treeherder" {
  for_each = local.treeherder_formations

  app      = local.treeherder_apps[each.value.env]
  type     = each.value.type
  quantity = each.value.quantity
  size     = each.value.size
  # Written as WEB_CONCURRENCY in the same apply, so a web size change keeps gunicorn in step.
  web_concurrency = each.value.type == "web" ? local.treeherder_web_concurrency[each.value.env] : null
}

# Config vars this configuration owns; add-ons' DATABASE_URL, REDIS_URL, … are left alone.
resource "treeherder_config_vars" "treeherder_settings" {
  for_each = local.treeherder_apps

  app = each.value
  vars = {
    NEW_RELIC_APP_NAME = each.value
    SITE_URL           = "https://${each.value}.herokuapp.com"
    BUGZILLA_API_URL   = "https://bugzilla.mozilla.org"
  }
}

# Read after everything in this directory that makes a release (config changes, the
# promotion in promotion.tf), so the output shows what runs once the apply is done.
data "treeherder_app" "treeherder" {
  for_each = local.treeherder_apps

  name = each.value
  depends_on = [
    treeherder_formation.treeherder,
    treeherder_config_vars.treeherder_settings,
    treeherder_pipeline_promotion.prod,
  ]
}

# What is deployed where: release, commit and web dynos of each app, side by side.
output "whats_deployed" {
  value = {
    for env, app in data.treeherder_app.treeherder : env => {
      app           = app.name
      release       = app.release == null ? null : "v${app.release.version}"
      commit        = app.release == null ? null : app.release.commit
      description   = app.release == null ? null : app.release.description
      deployed_at   = app.release == null ? null : app.release.created_at
      web           = "${app.process_types["web"].quantity} × ${app.process_types["web"].size}"
      process_types = length(app.process_types)
      config_vars   = length(app.config_var_keys) # names only, never values
    }
  }
}

# The Deploy tab: "prototype/stage typically set to auto-deploy from the `master` branch, and
# production from the `production` branch". Production waits for GitHub's checks.
resource "treeherder_app_github" "treeherder" {
  for_each = local.treeherder_apps

  app         = each.value
  repo        = "mozilla/treeherder"
  branch      = each.key == "prod" ? "production" : "master"
  auto_deploy = true
  wait_for_ci = each.key == "prod"
}
