# treeherder_dyno_restart cannot be imported: a restart is an event, recorded only by the
# apply that made it; Heroku keeps no record of restarts to import.
