//! The behavioural suite against the embedded store on MySQL/MariaDB (`SPGW_TEST_MYSQL_URL`,
//! a server URL without database; skipped when unset, unless `CI` is set).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::Backend;

behaviour_suite!(Backend::MySql);
