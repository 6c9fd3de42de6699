# Roll treeherder-prod back to v1234 (the runbook's "Reverting deployments"). Revert the
# branch prod auto-deploys from first: its next deploy replaces the rollback.
resource "treeherder_release_rollback" "prod" {
  app      = "treeherder-prod"
  release  = "v1234" # a version (v1234 or 1234) or a release UUID
  triggers = { reason = "bug 1800000" }

  timeouts {
    create = "20m"
  }
}

output "rollback_release" {
  # e.g. 1240: the new release, running v1234's code and config vars
  value = treeherder_release_rollback.prod.version
}
