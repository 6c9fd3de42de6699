//! Which accounts this resource may manage: its own (remembered in private state or refreshed
//! in this run), never the provider's login or an account holding more than SELECT.

use std::collections::BTreeSet;
use std::sync::Mutex;

use tfplugin::framework::Context;
use tfplugin::{attr, Diagnostic, Diagnostics};

use crate::clients::mysql::{Account, MysqlClient};
use crate::clients::Clients;

use super::model::*;

/// `name@host`, the id.
pub(super) fn id_of(account: &Account) -> String {
    format!("{}@{}", account.user(), account.host())
}

/// Private-state key of the account this resource instance's state holds (see
/// [`remember_account`]).
pub(super) const PRIOR_ACCOUNT: &str = "prior_account";

/// Records the account in private state. Terraform plans a replacement's create half with a
/// null prior but with the instance's private state (the state's for a tainted object, the
/// first plan call's for `-replace` or a changed attribute): an existing account recorded
/// there is the one being replaced, which the apply drops first, not a stranger's.
pub(super) fn remember_account(ctx: &Context<'_, Clients>, account: &Account) {
    ctx.set_private(PRIOR_ACCOUNT, &account_key(account));
}

/// Accounts this provider process has refreshed from some resource's state, by endpoint. A
/// tainted object is planned as a plain create (null prior, no private state), after Terraform
/// refreshed it in the same run: an account listed here is in this configuration's state, and
/// will be dropped before it is created again.
pub(super) static REFRESHED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

pub(super) fn refreshed_key(mysql: &MysqlClient, account: &Account) -> String {
    format!("{}|{}", mysql.endpoint(), account_key(account))
}

pub(super) fn note_refreshed(mysql: &MysqlClient, account: &Account) {
    let mut set = REFRESHED.lock().unwrap_or_else(|p| p.into_inner());
    set.insert(refreshed_key(mysql, account));
}

pub(super) fn was_refreshed(mysql: &MysqlClient, account: &Account) -> bool {
    let set = REFRESHED.lock().unwrap_or_else(|p| p.into_inner());
    set.contains(&refreshed_key(mysql, account))
}

/// An account as the server identifies it: hosts are case-insensitive.
pub(super) fn account_key(account: &Account) -> String {
    format!("{}@{}", account.user(), account.host().to_lowercase())
}

/// At most `max` items of a list for a message, then how many more.
pub(super) fn some_of(items: &[String], max: usize) -> String {
    let mut text = items
        .iter()
        .take(max)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > max {
        text.push_str(&format!(" and {} more", items.len() - max));
    }
    text
}

/// Refuses the provider's own login: managing it would ALTER or DROP the account the provider
/// works with.
pub(super) fn refuse_login_account(
    mysql: &MysqlClient,
    account: &Account,
) -> Result<(), Diagnostics> {
    if account.user() != mysql.login_user() {
        return Ok(());
    }
    Err(Diagnostic::error(
        "The provider's own account cannot be managed",
        format!(
            "{account} is the account the provider logs in with (its `mysql.username`). \
             A read-only user resource would change its password, REQUIRE setting and grants, \
             or drop it on destroy. Use another name."
        ),
    )
    .at(attr!(ReadonlyUserModel, name))
    .into())
}

/// Refuses an account holding more than SELECT: this resource would rewrite its password and
/// REQUIRE setting, so it must only ever own read-only accounts.
pub(super) async fn refuse_privileged(
    mysql: &MysqlClient,
    account: &Account,
) -> Result<(), Diagnostics> {
    let extra = mysql.privileges_beyond_select(account).await?;
    if extra.is_empty() {
        return Ok(());
    }
    Err(Diagnostic::error(
        "Not a read-only account",
        format!(
            "{account} holds privileges beyond SELECT and USAGE ({}), so it is not a read-only \
             account and this resource will not manage it (it would change its password and \
             REQUIRE setting). Revoke them by hand first, or use another name.",
            some_of(&extra, 8)
        ),
    )
    .at(attr!(ReadonlyUserModel, name))
    .into())
}
/// The error for a create whose account exists and is not in this resource's state.
pub(super) fn already_exists(account: &Account) -> Diagnostics {
    Diagnostic::error(
        "The account already exists",
        format!(
            "{account} exists on the server and is not the account in this resource's state. \
             Import it with `terraform import <address> '{}'` instead of creating it.",
            id_of(account)
        ),
    )
    .at(attr!(ReadonlyUserModel, name))
    .into()
}
