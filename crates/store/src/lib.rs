//! Storage. One [`Db`] handle over SQLite (embedded default) or MySQL/MariaDB
//! (production), chosen by the URL scheme. Everything above this crate speaks
//! portable SQL through [`Db`] (both dialects use `?` placeholders); the few
//! dialect differences, connection setup, migrations and row decoding live in
//! the backend modules [`sqlite`] and [`mysql`].

mod db;
mod error;
mod mysql;
pub mod repo;
mod sqlite;
mod temp;
mod value;

pub use db::{Backend, Db, DbOptions, Exec, Tx};
pub use error::StoreError;
pub use temp::TempSqlite;
pub use value::{Row, Value};

/// Result alias of this crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
