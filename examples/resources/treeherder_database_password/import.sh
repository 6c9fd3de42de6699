# Import by app name (or UUID). Nothing is changed by the import; the next plan shows:
# - without `password`/`password_wo`: no change when DATABASE_URL's password logs in, else
#   `in_sync: false -> true` (the apply sets MySQL's password to DATABASE_URL's);
# - with `password_wo_version` (or `password`): that argument being set, i.e. a rotation;
# - a configured `timeouts` block, added to the state only (it cannot be read back).
terraform import treeherder_database_password.stage treeherder-stage
