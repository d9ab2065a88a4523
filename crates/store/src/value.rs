//! Backend-neutral values and rows. Binding is generic over the driver; decoding
//! is per backend (see `sqlite.rs`, `mysql.rs`) because each reports types its own way.

use std::sync::Arc;

use sqlx::query::Query;
use sqlx::{Database, Encode, Type};

/// A value bound to or read from SQL. Booleans are `Int(0|1)`; times are `Int` ms.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Value {
    /// As an integer (numbers only).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Float(f) => Some(*f as i64),
            _ => None,
        }
    }

    /// As a float (numbers only).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// As text (text only).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this is SQL NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(v as i64)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map(Into::into).unwrap_or(Value::Null)
    }
}

/// A result row: column names (shared by all rows of one result) and values.
#[derive(Debug, Clone)]
pub struct Row {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

impl Row {
    pub(crate) fn new(columns: Arc<[String]>, values: Vec<Value>) -> Self {
        Row { columns, values }
    }

    /// The value of a column, `Null` when absent.
    pub fn get(&self, column: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.columns.iter().position(|c| c == column).map(|i| &self.values[i]).unwrap_or(&NULL)
    }

    /// An integer column (`None` when NULL or absent).
    pub fn i64(&self, column: &str) -> Option<i64> {
        self.get(column).as_i64()
    }

    /// A float column.
    pub fn f64(&self, column: &str) -> Option<f64> {
        self.get(column).as_f64()
    }

    /// A text column.
    pub fn str(&self, column: &str) -> Option<&str> {
        self.get(column).as_str()
    }

    /// A 0/1 column as bool (NULL → false).
    pub fn bool(&self, column: &str) -> bool {
        self.i64(column).unwrap_or(0) != 0
    }

    /// Column names and values in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.columns.iter().map(String::as_str).zip(self.values.iter())
    }
}

/// Binds values to a query, for any backend.
pub(crate) fn bind_all<'q, DB>(
    mut q: Query<'q, DB, <DB as Database>::Arguments<'q>>,
    args: &'q [Value],
) -> Query<'q, DB, <DB as Database>::Arguments<'q>>
where
    DB: Database,
    i64: Encode<'q, DB> + Type<DB>,
    f64: Encode<'q, DB> + Type<DB>,
    &'q str: Encode<'q, DB> + Type<DB>,
    &'q [u8]: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
{
    for a in args {
        q = match a {
            Value::Null => q.bind(None::<i64>),
            Value::Int(i) => q.bind(*i),
            Value::Float(f) => q.bind(*f),
            Value::Text(s) => q.bind(s.as_str()),
            Value::Bytes(b) => q.bind(b.as_slice()),
        };
    }
    q
}
