//! Repositories: SQL for each domain, written once in portable SQL over [`Db`](crate::Db).

pub mod auth;
pub mod settings;
pub mod table;
pub mod users;
