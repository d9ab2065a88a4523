//! Schema drift guard. The schema exists three times: `migrations/sqlite`, `migrations/mysql` and the
//! reference copy `docs/database.sql`; nothing but this test keeps them in step. Both dialects are
//! compared after *applying* them (SQLite in memory, MySQL in a throw-away database), so the check
//! sees what the engines made of the DDL, not what the text looks like.
//!
//! The MySQL half connects to `SPGW_TEST_MYSQL_URL` (a server URL without a database, e.g.
//! `mysql://root@127.0.0.1:3306`); without it that half is skipped, unless `CI` is set.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use futures::FutureExt;
use sqlx::migrate::Migrator;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::sqlite::SqliteConnection;
use sqlx::{Connection, Executor};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Line that opens each migration's section in `docs/database.sql`.
const DOC_MARKER: &str = "-- migration: ";
/// Set to rewrite `docs/database.sql` below its header from the MySQL migrations.
const UPDATE_DOC_VAR: &str = "SPGW_UPDATE_SCHEMA_DOC";
const MYSQL_URL_VAR: &str = "SPGW_TEST_MYSQL_URL";

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn reference_doc_is_the_mysql_migrations_concatenated() {
    let doc_path = repo_root().join("docs/database.sql");
    let doc = std::fs::read_to_string(&doc_path).expect("read docs/database.sql");
    let migrations = migration_files("mysql").expect("list MySQL migrations");
    let (header, sections) = split_doc(&doc);

    if std::env::var_os(UPDATE_DOC_VAR).is_some() {
        std::fs::write(&doc_path, render_doc(header, &migrations)).expect("write docs/database.sql");
        eprintln!("note: rewrote {} from the MySQL migrations", doc_path.display());
        return;
    }

    let problems = doc_problems(header, &sections, &migrations);
    assert!(
        problems.is_empty(),
        "docs/database.sql has drifted from crates/store/migrations/mysql (run this test with {UPDATE_DOC_VAR}=1 \
         to regenerate it):\n  - {}",
        problems.join("\n  - ")
    );
}

#[test]
fn both_dialects_have_the_same_migration_files() {
    let names = |dialect| -> Vec<String> {
        migration_files(dialect).expect("list migrations").into_iter().map(|(name, _)| name).collect()
    };
    let (sqlite, mysql) = (names("sqlite"), names("mysql"));
    assert!(!sqlite.is_empty(), "no SQLite migrations found");
    assert_eq!(sqlite, mysql, "every migration needs a SQLite and a MySQL version with the same file name");
}

#[tokio::test]
async fn sqlite_schema_is_well_formed() {
    let schema = sqlite_schema().await.expect("apply and read the SQLite migrations");
    assert!(schema.values().any(|t| !t.foreign_keys.is_empty()), "read no foreign keys: is the reader broken?");

    let mut problems = unindexed_foreign_keys(&schema);
    // MySQL names unique constraints, SQLite does not keep the name outside the DDL; an unnamed one
    // could not be matched against its MySQL twin.
    for (table, t) in &schema {
        for name in t.indexes.keys().filter(|n| n.starts_with('<')) {
            problems.push(format!("`{table}`: {name} has no CONSTRAINT name"));
        }
    }
    assert!(problems.is_empty(), "SQLite schema problems:\n  - {}", problems.join("\n  - "));
}

#[tokio::test]
async fn sqlite_and_mysql_schemas_agree() {
    let Some(url) = mysql_url() else { return };
    let sqlite = sqlite_schema().await.expect("apply and read the SQLite migrations");
    let mysql = mysql_schema(&url).await.expect("apply and read the MySQL migrations");

    let mut problems = compare(&sqlite, &mysql.schema);
    problems.extend(unindexed_foreign_keys(&mysql.schema).into_iter().map(|p| format!("MySQL: {p}")));
    for (table, (engine, collation)) in &mysql.table_options {
        if engine != "InnoDB" || collation != "utf8mb4_unicode_ci" {
            problems.push(format!("MySQL table `{table}` is {engine}/{collation}, want InnoDB/utf8mb4_unicode_ci"));
        }
    }
    assert!(problems.is_empty(), "SQLite and MySQL schemas differ:\n  - {}", problems.join("\n  - "));
}

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn migrations_dir(dialect: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(dialect)
}

/// `(file name, contents)` of a dialect's migrations in file-name order (the order sqlx applies them).
fn migration_files(dialect: &str) -> Result<Vec<(String, String)>, BoxError> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(migrations_dir(dialect))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "sql") {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            files.push((name, std::fs::read_to_string(&path)?));
        }
    }
    files.sort();
    Ok(files)
}

/// Splits the doc into its header and `(migration file name, first line number, body)` sections.
fn split_doc(doc: &str) -> (&str, Vec<(String, usize, String)>) {
    let header_len =
        if doc.starts_with(DOC_MARKER) { 0 } else { doc.find(&format!("\n{DOC_MARKER}")).map_or(doc.len(), |i| i + 1) };
    let mut sections: Vec<(String, usize, String)> = Vec::new();
    let header_lines = doc[..header_len].lines().count();
    for (i, line) in doc[header_len..].lines().enumerate() {
        if let Some(name) = line.strip_prefix(DOC_MARKER) {
            sections.push((name.trim().to_owned(), header_lines + i + 2, String::new()));
        } else if let Some((_, _, body)) = sections.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    (&doc[..header_len], sections)
}

fn render_doc(header: &str, migrations: &[(String, String)]) -> String {
    let mut doc = header.to_owned();
    for (name, sql) in migrations {
        doc.push_str(&format!("{DOC_MARKER}{name}\n{}\n\n", sql.trim_end()));
    }
    doc
}

/// Lines with trailing whitespace and surrounding blank lines removed.
fn normalised_lines(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let start = lines.iter().position(|l| !l.is_empty()).unwrap_or(lines.len());
    let end = lines.iter().rposition(|l| !l.is_empty()).map_or(start, |i| i + 1);
    lines[start..end].to_vec()
}

fn doc_problems(header: &str, sections: &[(String, usize, String)], migrations: &[(String, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    // SQL hidden in the header would escape every check below.
    if let Some((n, line)) = header.lines().enumerate().find(|(_, l)| !l.trim().is_empty() && !l.starts_with("--")) {
        problems.push(format!("line {}: header holds a non-comment line `{line}`", n + 1));
    }
    let doc_names: Vec<&str> = sections.iter().map(|(n, _, _)| n.as_str()).collect();
    let file_names: Vec<&str> = migrations.iter().map(|(n, _)| n.as_str()).collect();
    if doc_names != file_names {
        problems.push(format!("sections {doc_names:?} but migrations {file_names:?}"));
    }
    for (name, first_line, body) in sections {
        let Some((_, sql)) = migrations.iter().find(|(n, _)| n == name) else { continue };
        let (doc_lines, file_lines) = (normalised_lines(body), normalised_lines(sql));
        // Report the first differing line only: one edit usually shifts everything after it.
        let first_diff = (0..doc_lines.len().max(file_lines.len())).find(|&i| doc_lines.get(i) != file_lines.get(i));
        if let Some(i) = first_diff {
            let skipped = body.lines().take_while(|l| l.trim().is_empty()).count();
            problems.push(format!(
                "section {name}, docs/database.sql line {}: found `{}`, migrations/mysql/{name} has `{}`",
                first_line + skipped + i,
                doc_lines.get(i).unwrap_or(&"<end of section>"),
                file_lines.get(i).unwrap_or(&"<end of file>"),
            ));
        }
    }
    problems
}

// ---------------------------------------------------------------------------------------------
// Schema model, as read back from a database
// ---------------------------------------------------------------------------------------------

type Schema = BTreeMap<String, Table>;

#[derive(Debug, Default)]
struct Table {
    columns: Vec<Column>,
    primary_key: Vec<String>,
    /// Indexes and unique constraints by name; the primary key is not among them.
    indexes: BTreeMap<String, Index>,
    foreign_keys: BTreeSet<ForeignKey>,
}

#[derive(Debug)]
struct Column {
    name: String,
    /// Type as the engine reports it, for messages.
    declared: String,
    /// Dialect-neutral type compared across engines (see `sqlite_kind`, `mysql_kind`).
    kind: String,
    not_null: bool,
    default: Option<String>,
}

#[derive(Debug, PartialEq)]
struct Index {
    columns: Vec<String>,
    unique: bool,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ForeignKey {
    columns: Vec<String>,
    ref_table: String,
    ref_columns: Vec<String>,
    on_delete: String,
}

impl fmt::Display for ForeignKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (cols, refs) = (self.columns.join(", "), self.ref_columns.join(", "));
        write!(f, "({cols}) -> {}({refs}) ON DELETE {}", self.ref_table, self.on_delete)
    }
}

/// `INTEGER` is the row-id primary key or, by the schema's convention, a 0/1 boolean
/// (`TINYINT(1)` in MySQL); every other integer is `BIGINT`.
fn sqlite_kind(declared: &str, primary_key: bool) -> String {
    match declared.to_ascii_lowercase().as_str() {
        "integer" if primary_key => "id".into(),
        "integer" => "bool".into(),
        other => other.into(),
    }
}

fn mysql_kind(column_type: &str, extra: &str) -> String {
    let ty = column_type.to_ascii_lowercase();
    // MariaDB and MySQL 5.7 print display widths (`bigint(20)`), MySQL 8 does not.
    let bigint = ty == "bigint" || ty.starts_with("bigint(");
    if bigint && extra.to_ascii_lowercase().contains("auto_increment") {
        return "id".into();
    }
    match ty.as_str() {
        "tinyint(1)" => "bool".into(),
        _ if bigint => "bigint".into(),
        // Size classes of one SQLite TEXT.
        "text" | "mediumtext" | "longtext" => "text".into(),
        _ => ty,
    }
}

/// No default and `DEFAULT NULL` are the same; MariaDB quotes string defaults, MySQL 8 does not.
fn normalise_default(default: Option<String>) -> Option<String> {
    let default = default?;
    if default.eq_ignore_ascii_case("null") {
        return None;
    }
    Some(default.strip_prefix('\'').and_then(|d| d.strip_suffix('\'')).unwrap_or(&default).to_owned())
}

/// RESTRICT and NO ACTION both refuse the delete (InnoDB makes no difference); MariaDB reports an
/// omitted clause as RESTRICT, SQLite and MySQL 8 as NO ACTION.
fn normalise_on_delete(rule: &str) -> String {
    match rule.to_ascii_uppercase().as_str() {
        "RESTRICT" | "NO ACTION" => "NO ACTION".into(),
        other => other.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// SQLite
// ---------------------------------------------------------------------------------------------

async fn sqlite_schema() -> Result<Schema, BoxError> {
    // One connection: every connection to `:memory:` is a database of its own.
    let mut conn = SqliteConnection::connect("sqlite::memory:").await?;
    Migrator::new(migrations_dir("sqlite").as_path()).await?.run(&mut conn).await?;

    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await?;

    let mut schema = Schema::new();
    for (name, ddl) in tables {
        let mut table = Table::default();
        let columns: Vec<(String, String, i64, Option<String>, i64)> =
            sqlx::query_as("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid")
                .bind(&name)
                .fetch_all(&mut conn)
                .await?;
        let mut primary_key = Vec::new();
        for (column, declared, not_null, default, pk) in columns {
            if pk > 0 {
                primary_key.push((pk, column.clone()));
            }
            table.columns.push(Column {
                kind: sqlite_kind(&declared, pk > 0),
                // The row-id primary key reports nullable but can never hold NULL.
                not_null: not_null != 0 || pk > 0,
                default: normalise_default(default),
                name: column,
                declared,
            });
        }
        primary_key.sort();
        table.primary_key = primary_key.into_iter().map(|(_, c)| c).collect();

        let named_uniques = named_unique_constraints(&ddl);
        let indexes: Vec<(String, i64, String)> =
            sqlx::query_as("SELECT name, \"unique\", origin FROM pragma_index_list(?)")
                .bind(&name)
                .fetch_all(&mut conn)
                .await?;
        for (index, unique, origin) in indexes {
            if origin == "pk" {
                continue;
            }
            let columns: Vec<Option<String>> =
                sqlx::query_scalar("SELECT name FROM pragma_index_info(?) ORDER BY seqno")
                    .bind(&index)
                    .fetch_all(&mut conn)
                    .await?;
            let columns: Vec<String> = columns.into_iter().map(|c| c.unwrap_or_else(|| "<expr>".into())).collect();
            // UNIQUE constraints become `sqlite_autoindex_<table>_<n>`; their names only survive in the DDL.
            let index = if origin == "u" {
                named_uniques.iter().find(|(_, cols)| *cols == columns).map_or_else(
                    || format!("<unnamed UNIQUE ({})>", columns.join(", ")),
                    |(constraint, _)| constraint.clone(),
                )
            } else {
                index
            };
            table.indexes.insert(index, Index { columns, unique: unique != 0 });
        }

        let fk_rows: Vec<(i64, String, String, Option<String>, String)> = sqlx::query_as(
            "SELECT id, \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq",
        )
        .bind(&name)
        .fetch_all(&mut conn)
        .await?;
        let mut fks: BTreeMap<i64, ForeignKey> = BTreeMap::new();
        for (id, ref_table, from, to, on_delete) in fk_rows {
            let fk = fks.entry(id).or_insert_with(|| ForeignKey {
                columns: Vec::new(),
                ref_table,
                ref_columns: Vec::new(),
                on_delete: normalise_on_delete(&on_delete),
            });
            fk.columns.push(from);
            fk.ref_columns.push(to.unwrap_or_else(|| "<primary key>".into()));
        }
        table.foreign_keys = fks.into_values().collect();
        schema.insert(name, table);
    }
    Ok(schema)
}

/// `CONSTRAINT <name> UNIQUE (<columns>)` clauses of a `CREATE TABLE` statement.
fn named_unique_constraints(ddl: &str) -> Vec<(String, Vec<String>)> {
    let tokens = sql_tokens(ddl);
    let mut found = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let is = |offset: usize, word: &str| tokens.get(i + offset).is_some_and(|t| t.eq_ignore_ascii_case(word));
        if !token.eq_ignore_ascii_case("constraint") || !is(2, "unique") || !is(3, "(") {
            continue;
        }
        let columns = tokens[i + 4..].iter().take_while(|t| *t != ")").filter(|t| *t != ",").cloned().collect();
        found.push((tokens[i + 1].clone(), columns));
    }
    found
}

/// Identifiers/keywords (quotes stripped) and single punctuation characters; comments and string
/// literals are dropped. Enough for DDL, not a SQL parser.
fn sql_tokens(sql: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '-' if chars.peek() == Some(&'-') => {
                chars.by_ref().find(|&c| c == '\n');
            }
            '\'' => {
                chars.by_ref().find(|&c| c == '\'');
            }
            '"' | '`' => tokens.push(chars.by_ref().take_while(|&q| q != c).collect()),
            c if c.is_alphanumeric() || c == '_' => {
                let mut word = c.to_string();
                while let Some(&next) = chars.peek().filter(|n| n.is_alphanumeric() || **n == '_') {
                    word.push(next);
                    chars.next();
                }
                tokens.push(word);
            }
            c if c.is_whitespace() => {}
            c => tokens.push(c.to_string()),
        }
    }
    tokens
}

// ---------------------------------------------------------------------------------------------
// MySQL
// ---------------------------------------------------------------------------------------------

struct MysqlSnapshot {
    schema: Schema,
    /// `(engine, collation)` per table.
    table_options: BTreeMap<String, (String, String)>,
}

/// `None` (with a note) when no server is configured; outside CI only.
fn mysql_url() -> Option<String> {
    match std::env::var(MYSQL_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{MYSQL_URL_VAR} is unset but CI is set: the MySQL schema check must run in CI")
        }
        _ => {
            eprintln!("note: {MYSQL_URL_VAR} unset, skipping the SQLite/MySQL comparison");
            None
        }
    }
}

/// Applies the MySQL migrations to a fresh database, reads the schema back and drops the database,
/// also when applying or reading fails.
async fn mysql_schema(url: &str) -> Result<MysqlSnapshot, BoxError> {
    let server = MySqlConnectOptions::from_str(url)?;
    let database = format!("spgw_drift_{:016x}", random_u64());
    let mut admin = MySqlConnection::connect_with(&server).await?;
    admin.execute(format!("CREATE DATABASE `{database}`").as_str()).await?;

    let options = server.clone().database(&database);
    let result = std::panic::AssertUnwindSafe(async {
        let mut conn = MySqlConnection::connect_with(&options).await?;
        Migrator::new(migrations_dir("mysql").as_path()).await?.run(&mut conn).await?;
        let snapshot = read_mysql_schema(&mut conn, &database).await;
        conn.close().await?;
        snapshot
    })
    .catch_unwind()
    .await;

    admin.execute(format!("DROP DATABASE `{database}`").as_str()).await?;
    match result {
        Ok(snapshot) => snapshot,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

async fn read_mysql_schema(conn: &mut MySqlConnection, database: &str) -> Result<MysqlSnapshot, BoxError> {
    // information_schema columns come back as binary strings on MySQL 8; CAST makes them text.
    let tables: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(ENGINE AS CHAR), CAST(TABLE_COLLATION AS CHAR) \
         FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME <> '_sqlx_migrations'",
    )
    .bind(database)
    .fetch_all(&mut *conn)
    .await?;
    let mut schema = Schema::new();
    let mut table_options = BTreeMap::new();
    for (name, engine, collation) in tables {
        schema.insert(name.clone(), Table::default());
        table_options.insert(name, (engine, collation));
    }

    let columns: Vec<(String, String, String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR), CAST(IS_NULLABLE AS CHAR), \
         CAST(COLUMN_TYPE AS CHAR), CAST(COLUMN_DEFAULT AS CHAR), CAST(EXTRA AS CHAR) \
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION",
    )
    .bind(database)
    .fetch_all(&mut *conn)
    .await?;
    for (table, name, nullable, column_type, default, extra) in columns {
        let Some(t) = schema.get_mut(&table) else { continue };
        t.columns.push(Column {
            name,
            kind: mysql_kind(&column_type, &extra),
            declared: column_type,
            not_null: nullable == "NO",
            default: normalise_default(default),
        });
    }

    let fk_rows: Vec<(String, String, String, String, String, String)> = sqlx::query_as(
        "SELECT CAST(k.TABLE_NAME AS CHAR), CAST(k.CONSTRAINT_NAME AS CHAR), CAST(k.COLUMN_NAME AS CHAR), \
         CAST(k.REFERENCED_TABLE_NAME AS CHAR), CAST(k.REFERENCED_COLUMN_NAME AS CHAR), CAST(r.DELETE_RULE AS CHAR) \
         FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
         ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
         AND r.TABLE_NAME = k.TABLE_NAME \
         WHERE k.TABLE_SCHEMA = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL \
         ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
    )
    .bind(database)
    .fetch_all(&mut *conn)
    .await?;
    let mut fks: BTreeMap<(String, String), ForeignKey> = BTreeMap::new();
    for (table, constraint, column, ref_table, ref_column, on_delete) in fk_rows {
        let fk = fks.entry((table, constraint)).or_insert_with(|| ForeignKey {
            columns: Vec::new(),
            ref_table,
            ref_columns: Vec::new(),
            on_delete: normalise_on_delete(&on_delete),
        });
        fk.columns.push(column);
        fk.ref_columns.push(ref_column);
    }
    let fk_names: BTreeSet<(String, String)> = fks.keys().cloned().collect();
    for ((table, _), fk) in fks {
        if let Some(t) = schema.get_mut(&table) {
            t.foreign_keys.insert(fk);
        }
    }

    let index_rows: Vec<(String, String, i64, String)> = sqlx::query_as(
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(INDEX_NAME AS CHAR), CAST(NON_UNIQUE AS SIGNED), \
         CAST(COLUMN_NAME AS CHAR) FROM information_schema.STATISTICS \
         WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
    )
    .bind(database)
    .fetch_all(&mut *conn)
    .await?;
    for (table, index, non_unique, column) in index_rows {
        let Some(t) = schema.get_mut(&table) else { continue };
        if index == "PRIMARY" {
            t.primary_key.push(column);
            continue;
        }
        // InnoDB's implicit index for a foreign key without one carries the constraint's name;
        // SQLite has no counterpart, and `unindexed_foreign_keys` reports the missing index instead.
        if fk_names.contains(&(table.clone(), index.clone())) {
            continue;
        }
        t.indexes
            .entry(index)
            .or_insert_with(|| Index { columns: Vec::new(), unique: non_unique == 0 })
            .columns
            .push(column);
    }
    Ok(MysqlSnapshot { schema, table_options })
}

fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded from the OS; the pid separates concurrent runs even if it were not.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.finish()
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

/// Every foreign key must be the leading column(s) of an index: deletes on the parent scan the child
/// otherwise (SQLite), or InnoDB adds an index nobody declared (MySQL).
fn unindexed_foreign_keys(schema: &Schema) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, table) in schema {
        for fk in &table.foreign_keys {
            let leads = |columns: &[String]| columns.starts_with(&fk.columns);
            if !leads(&table.primary_key) && !table.indexes.values().any(|i| leads(&i.columns)) {
                problems.push(format!("`{name}` {fk}: no index starts with ({})", fk.columns.join(", ")));
            }
        }
    }
    problems
}

fn compare(sqlite: &Schema, mysql: &Schema) -> Vec<String> {
    let mut problems = Vec::new();
    for name in sqlite.keys().filter(|n| !mysql.contains_key(*n)) {
        problems.push(format!("table `{name}` exists only in SQLite"));
    }
    for name in mysql.keys().filter(|n| !sqlite.contains_key(*n)) {
        problems.push(format!("table `{name}` exists only in MySQL"));
    }
    for (name, lite) in sqlite {
        if let Some(my) = mysql.get(name) {
            compare_tables(name, lite, my, &mut problems);
        }
    }
    problems
}

fn compare_tables(name: &str, lite: &Table, my: &Table, problems: &mut Vec<String>) {
    fn column_names(t: &Table) -> Vec<&str> {
        t.columns.iter().map(|c| c.name.as_str()).collect()
    }
    let (lite_names, my_names) = (column_names(lite), column_names(my));
    if lite_names != my_names {
        problems.push(format!(
            "`{name}`: columns differ\n      SQLite: {}\n      MySQL:  {}",
            lite_names.join(", "),
            my_names.join(", ")
        ));
    } else {
        for (l, m) in lite.columns.iter().zip(&my.columns) {
            let column = format!("`{name}.{}`", l.name);
            if l.kind != m.kind {
                problems.push(format!("{column}: type {} in SQLite, {} in MySQL", l.declared, m.declared));
            }
            if l.not_null != m.not_null {
                let null = |n: bool| if n { "NOT NULL" } else { "nullable" };
                problems.push(format!("{column}: {} in SQLite, {} in MySQL", null(l.not_null), null(m.not_null)));
            }
            if l.default != m.default {
                problems.push(format!("{column}: default {:?} in SQLite, {:?} in MySQL", l.default, m.default));
            }
        }
    }
    if lite.primary_key != my.primary_key {
        problems.push(format!("`{name}`: primary key {:?} in SQLite, {:?} in MySQL", lite.primary_key, my.primary_key));
    }

    let index_names: BTreeSet<&String> = lite.indexes.keys().chain(my.indexes.keys()).collect();
    for index in index_names {
        let describe = |i: &Index| format!("{}({})", if i.unique { "UNIQUE " } else { "" }, i.columns.join(", "));
        match (lite.indexes.get(index), my.indexes.get(index)) {
            (Some(l), Some(m)) if l != m => {
                problems.push(format!("`{name}`: index {index} is {} in SQLite, {} in MySQL", describe(l), describe(m)))
            }
            (Some(l), None) => problems.push(format!("`{name}`: index {index} {} only in SQLite", describe(l))),
            (None, Some(m)) => problems.push(format!("`{name}`: index {index} {} only in MySQL", describe(m))),
            _ => {}
        }
    }

    for fk in lite.foreign_keys.difference(&my.foreign_keys) {
        problems.push(format!("`{name}`: foreign key {fk} only in SQLite"));
    }
    for fk in my.foreign_keys.difference(&lite.foreign_keys) {
        problems.push(format!("`{name}`: foreign key {fk} only in MySQL"));
    }
}
