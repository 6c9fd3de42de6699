# Two web dynos of Standard-2X on the production app.
resource "treeherder_formation" "web" {
  app      = "treeherder-prod" # name or UUID
  type     = "web"             # a process type of the app's Procfile; changing it replaces
  quantity = 2
  size     = "Standard-2X" # checked when planning against the app's available sizes

  # Optional: gunicorn's workers, written as WEB_CONCURRENCY in the same apply.
  web_concurrency = 4
}

# A log parser that is scaled down to zero when removed from the configuration.
resource "treeherder_formation" "log_parser" {
  app        = "treeherder-prod"
  type       = "worker_log_parser"
  quantity   = 4
  size       = "performance-m" # any case; your spelling is kept
  on_destroy = "scale_to_zero" # default "keep": destroy leaves the dynos running
}
