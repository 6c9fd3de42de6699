# treeherder_one_off_dyno cannot be imported: a one-off run is an event, recorded only by the
# apply that made it; Heroku forgets a one-off dyno, and its exit status, once it exits.
