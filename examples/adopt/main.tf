# Adopting what already runs (README, "Adopting an existing setup"). From an empty state:
#
#   terraform init
#   1. terraform apply -refresh-only -auto-approve && terraform output -raw import_blocks > imports.tf
#   2. terraform plan -generate-config-out=generated.tf -out=adopt.tfplan
#   3. terraform apply adopt.tfplan
#
# Step 1 only reads (data sources; the state gets the output, nothing else). It writes one
# plain `import` block per object, with the ids the data sources list: Terraform 1.11 cannot
# generate configuration for an `import` block with `for_each` ("The target resource does not
# use for_each"), so the blocks are rendered here instead. Step 2 writes the resource blocks
# (`generated.tf`) and plans imports only; step 3 imports, writing nothing to any service.
# Then review and commit `generated.tf`; `discover.tf` and `imports.tf` can be deleted.

terraform {
  # Import blocks and -generate-config-out.
  required_version = ">= 1.5"
  required_providers {
    treeherder = {
      source = "treeherder/treeherder"
    }
  }
}

provider "treeherder" {} # settings from HEROKU_API_KEY, TREEHERDER_MYSQL_*, AWS_* …
