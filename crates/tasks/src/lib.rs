//! Tasks that run themselves: the task service (the functions the API and the
//! agents' skills call), schedules with a firing ledger, the executor that claims
//! tasks with database leases and hands them to an [`AgentRunner`], and triggers.

pub mod attachments;
pub mod conditions;
pub mod error;
pub mod executor;
pub mod ledger;
pub mod limits;
pub mod model;
pub mod runner;
pub mod runs;
pub mod schedule;
pub mod scheduler;
pub mod service;
pub mod triggers;
pub mod worker;

pub use error::{Result, TaskError};
pub use executor::{Executor, ExecutorOptions};
pub use model::{NewTask, TagCount, TaskFilter, TaskPage, TaskPatch, TaskRow, TaskStatus};
pub use runner::{AgentRunner, Attachment, Limits, RunStatus, TaskJob, TaskOutcome};
pub use scheduler::{Scheduler, SchedulerOptions};
