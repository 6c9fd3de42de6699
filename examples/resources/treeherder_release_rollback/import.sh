# treeherder_release_rollback cannot be imported: a rollback is an event, recorded only by
# the apply that made it. A rollback made by hand needs no resource; declare one only to
# roll back (again) through a reviewed plan.
