# Deploy master to stage: the plan names the commit master points at now; a later push plans
# nothing. Change `triggers` to deploy master again (its newest commit then).
resource "treeherder_deployment" "stage" {
  app      = "treeherder-stage"
  ref      = "master" # a branch, tag or commit SHA of the app's linked repository
  triggers = { reset = "2026-12-01" }

  timeouts {
    create = "30m" # the build and the release phase (migrations)
  }
}

# "Initiating a new deployment with the former code revision": a commit SHA.
resource "treeherder_deployment" "prod_revert" {
  app  = "treeherder-prod"
  repo = "mozilla/treeherder" # default: the repository of the app's Deploy tab
  ref  = "3f5e2b1c9d0a"
}
