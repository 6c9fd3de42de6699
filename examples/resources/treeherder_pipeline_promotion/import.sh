# Import a promotion by its UUID (`heroku pipelines:promote` prints it; the API lists it under
# /pipeline-promotions/<id>). The imported pipeline, source_app and targets are names.
# Heroku does not record `triggers` or `timeouts`: when configured, the next plan sets them
# in the state only (never a new promotion).
terraform import treeherder_pipeline_promotion.prod 2b3c4d5e-6f70-4a8b-9c0d-1e2f3a4b5c6d
