# Import an account created by hand with the runbook's SQL, by "name@host".
# The password cannot be read back. With `password` (or `password_wo`) in the configuration the
# next plan shows only the password changing, and the apply runs ALTER USER … IDENTIFIED BY
# (the old password stops working). Without either, the account keeps its password and only
# its REQUIRE SSL setting and grants are managed: the way to adopt an account in use.
terraform import treeherder_readonly_user.redash 'redash@%'
