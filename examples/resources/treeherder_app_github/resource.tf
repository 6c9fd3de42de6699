# Production deploys the `production` branch automatically, once GitHub's checks passed.
resource "treeherder_app_github" "prod" {
  app         = "treeherder-prod"
  repo        = "mozilla/treeherder" # another repository replaces the resource
  branch      = "production"
  auto_deploy = true
  wait_for_ci = true      # "Wait for CI to pass before deploy"
  on_destroy  = "disable" # default: auto-deploy off, link kept; "disconnect" removes the link
}
