//! Typed state upgraders: stored state written by an older schema version, read as that
//! version's model and converted to the current one.
//!
//! Terraform hands the provider the raw JSON of the stored attributes together with the
//! schema version that wrote them, and expects the state back in the current schema. A
//! resource that changes its stored shape raises [`Resource::schema_version`] and adds a
//! [`StateUpgrader`] keyed by the prior version, whose input is the prior model as a Rust type.
//!
//! [`Resource::schema_version`]: super::Resource::schema_version

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::diag::{Diagnostic, Diagnostics};

/// What one upgrader produced.
pub(crate) enum Upgraded<M> {
    /// The current model: the chain ends here.
    Current(M),
    /// The JSON form of the model of schema version `.0`: the chain goes on from there.
    Version(i64, serde_json::Value),
}

type UpgradeFn<M> = dyn Fn(serde_json::Value) -> Result<Upgraded<M>, Diagnostics> + Send + Sync;

/// Converts stored state of one prior schema version of a resource whose current model is `M`.
///
/// The stored JSON is deserialised into the prior model `P` (attributes `P` does not name are
/// ignored, so `P` need only list what the conversion reads), then converted either straight to
/// the current model ([`StateUpgrader::to_current`]) or to the model of a later, still not
/// current version ([`StateUpgrader::to_version`]) whose own upgrader continues the chain.
pub struct StateUpgrader<M> {
    from: i64,
    run: Box<UpgradeFn<M>>,
}

impl<M: 'static> StateUpgrader<M> {
    /// Upgrades state written by schema version `from`, read as the prior model `P`, to the
    /// current model.
    pub fn to_current<P, F>(from: i64, upgrade: F) -> Self
    where
        P: DeserializeOwned + 'static,
        F: Fn(P) -> Result<M, Diagnostics> + Send + Sync + 'static,
    {
        StateUpgrader {
            from,
            run: Box::new(move |json| upgrade(prior_model(from, json)?).map(Upgraded::Current)),
        }
    }

    /// Upgrades state written by schema version `from`, read as the prior model `P`, to the
    /// model `N` of the later version `to`; the upgrader keyed by `to` takes it from there.
    pub fn to_version<P, N, F>(from: i64, to: i64, upgrade: F) -> Self
    where
        P: DeserializeOwned + 'static,
        N: Serialize + 'static,
        F: Fn(P) -> Result<N, Diagnostics> + Send + Sync + 'static,
    {
        StateUpgrader {
            from,
            run: Box::new(move |json| {
                let next = upgrade(prior_model(from, json)?)?;
                let json = serde_json::to_value(&next).map_err(|e| {
                    Diagnostic::error(
                        "Internal error: an upgraded state cannot be encoded",
                        format!("The model of state version {to}: {e}"),
                    )
                })?;
                Ok(Upgraded::Version(to, json))
            }),
        }
    }

    /// The schema version whose state this upgrader reads.
    pub fn from_version(&self) -> i64 {
        self.from
    }
}

/// The stored JSON of version `from` as its model `P`.
fn prior_model<P: DeserializeOwned>(from: i64, json: serde_json::Value) -> Result<P, Diagnostics> {
    serde_json::from_value(json).map_err(|e| {
        Diagnostic::error(
            "Stored state does not fit its schema version",
            format!("The state written by schema version {from} cannot be read as that version's model: {e}"),
        )
        .into()
    })
}

/// Runs the upgraders from `version` until the state is in the current `current` version:
/// the current model, or the current version's JSON (when `version` is already current, or
/// the last upgrader was a [`StateUpgrader::to_version`] to it).
pub(crate) fn run_chain<M: 'static>(
    type_name: &str,
    current: i64,
    upgraders: &[StateUpgrader<M>],
    mut version: i64,
    mut json: serde_json::Value,
) -> Result<Upgraded<M>, Diagnostics> {
    // Each step must raise the version, so the loop ends after at most `current` steps.
    loop {
        if version == current {
            return Ok(Upgraded::Version(version, json));
        }
        if version > current {
            return Err(Diagnostic::error(
                "State written by a newer provider",
                format!("{type_name} state has schema version {version}, newer than this provider's {current}: use the provider version that wrote it, or a later one."),
            )
            .into());
        }
        let Some(upgrader) = upgraders.iter().find(|u| u.from == version) else {
            return Err(Diagnostic::error(
                "Cannot upgrade state",
                format!("{type_name} has no state upgrader from schema version {version} (current version {current})."),
            )
            .into());
        };
        match (upgrader.run)(json)? {
            Upgraded::Current(model) => return Ok(Upgraded::Current(model)),
            Upgraded::Version(to, next) if to > version && to <= current => {
                version = to;
                json = next;
            }
            Upgraded::Version(to, _) => {
                return Err(Diagnostic::error(
                    "Internal error: invalid state upgrader",
                    format!("{type_name}'s upgrader from schema version {version} goes to version {to}, which is not between {version} and the current version {current}."),
                )
                .into());
            }
        }
    }
}
