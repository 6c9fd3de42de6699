# Lets this example run on its own (`terraform init && terraform validate`).
terraform {
  required_providers {
    treeherder = {
      source = "treeherder/treeherder"
    }
  }
}
