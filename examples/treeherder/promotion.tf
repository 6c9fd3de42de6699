# Deploys reach production by promotion, not by a second build: the slug running on
# treeherder-stage is released on treeherder-prod. CI passes the commit it verified on stage:
#
#   terraform apply -var "stage_commit=$(git rev-parse HEAD)"
#
# A new value replaces the resource, i.e. makes a new promotion; the apply waits until prod is
# released and fails (keeping the promotion in state, tainted) if Heroku reports a failure.
# Destroying it only forgets it: production keeps running what was promoted.

variable "stage_commit" {
  description = "Commit verified on treeherder-stage, to promote to treeherder-prod."
  type        = string
  default     = "9f04d1ab"
}

resource "treeherder_pipeline_promotion" "prod" {
  pipeline   = "treeherder"
  source_app = "treeherder-stage"
  targets    = ["treeherder-prod"]
  triggers   = { commit = var.stage_commit }

  timeouts {
    create = "30m"
  }
}

output "prod_promoted_release" {
  value = treeherder_pipeline_promotion.prod.promoted_releases["treeherder-prod"]
}
