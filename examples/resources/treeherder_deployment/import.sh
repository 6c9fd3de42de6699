# treeherder_deployment cannot be imported: a deployment is an event, recorded only by the
# apply that made it. A deploy made by hand needs no resource; declare one only to deploy
# (again) through a reviewed plan.
