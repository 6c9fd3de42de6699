variable "commit_sha" {
  description = "The commit deployed on treeherder-stage that should go to production."
  type        = string
}

# Promote what runs on treeherder-stage to treeherder-prod. A new commit_sha makes a new
# promotion (the resource is replaced); the apply waits until prod is released.
resource "treeherder_pipeline_promotion" "prod" {
  pipeline   = "treeherder"
  source_app = "treeherder-stage"
  targets    = ["treeherder-prod"]
  triggers   = { commit = var.commit_sha }

  timeouts {
    create = "30m"
  }
}

output "prod_release" {
  # e.g. { release_id = "…", version = 42, status = "succeeded" }
  value = treeherder_pipeline_promotion.prod.promoted_releases["treeherder-prod"]
}
