# `terraform test` with mock_provider needs Terraform >= 1.7; issensitive() in the tests, 1.8.
terraform {
  required_version = ">= 1.8"

  required_providers {
    treeherder = {
      source = "treeherder/treeherder"
    }
  }
}
