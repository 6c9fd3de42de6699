# Import an account created by hand with the runbook's SQL, by "name@host".
# The password cannot be read back: the next plan shows only `password` changing, and the
# apply runs ALTER USER … IDENTIFIED BY with the configured one (the old password stops working).
terraform import treeherder_readonly_user.redash 'redash@%'
