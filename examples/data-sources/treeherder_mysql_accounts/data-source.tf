# The read-only accounts made with the runbook's SQL, to adopt without their passwords.
data "treeherder_mysql_accounts" "readonly" {
  name_regex = "^(activedata|redash)$"
}

locals {
  adoptable = {
    for a in data.treeherder_mysql_accounts.readonly.accounts : a.name => a if a.select_only
  }
}

# Neither `password` nor `password_wo`: the accounts keep their passwords; the plan grants
# what each one lacks (its `missing_tables`). Import them with `terraform import
# 'treeherder_readonly_user.adopted["redash"]' 'redash@%'`, or with the import block below.
resource "treeherder_readonly_user" "adopted" {
  for_each = local.adoptable
  name     = each.value.name
  host     = each.value.host
}

output "missing_tables" {
  value = { for a in data.treeherder_mysql_accounts.readonly.accounts : a.import_id => a.missing_tables }
}
