//! Listing instances by identifier prefix, for adopting the ones restored by hand
//! (`treeherder-dev-bugNNNNNN`).

use super::{sdk_error, Instance, RdsClient, RdsError};

/// Whether `identifier` starts with `prefix`; RDS identifiers are lower case, so the prefix
/// is compared as RDS would store it.
pub fn has_prefix(identifier: &str, prefix: &str) -> bool {
    identifier.starts_with(&prefix.to_ascii_lowercase())
}

impl RdsClient {
    /// Every instance whose identifier starts with `prefix`, sorted by identifier, from all
    /// pages of DescribeDBInstances (RDS has no filter by prefix).
    pub async fn instances_with_prefix(&self, prefix: &str) -> Result<Vec<Instance>, RdsError> {
        let mut pages = self.client.describe_db_instances().into_paginator().send();
        let mut instances = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error("DescribeDBInstances", prefix, e))?;
            instances.extend(
                page.db_instances()
                    .iter()
                    .map(Instance::from)
                    .filter(|i| has_prefix(&i.identifier, prefix)),
            );
        }
        instances.sort_by(|a, b| a.identifier.cmp(&b.identifier));
        Ok(instances)
    }
}

#[cfg(test)]
mod tests {
    use super::has_prefix;

    #[test]
    fn prefix_is_compared_as_rds_stores_identifiers() {
        assert!(has_prefix(
            "treeherder-dev-bug1234567",
            "treeherder-dev-bug"
        ));
        assert!(has_prefix("treeherder-dev-bug1234567", "Treeherder-Dev-"));
        assert!(has_prefix("treeherder-prod", ""));
        assert!(!has_prefix("treeherder-prod", "treeherder-dev"));
    }
}
