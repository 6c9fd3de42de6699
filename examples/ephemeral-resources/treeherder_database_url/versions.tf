# Lets this example run on its own (`terraform init && terraform validate`). Ephemeral
# resources need Terraform 1.10 or later; write-only attributes 1.11.
terraform {
  required_version = ">= 1.11"
  required_providers {
    treeherder = {
      source = "treeherder/treeherder"
    }
  }
}
