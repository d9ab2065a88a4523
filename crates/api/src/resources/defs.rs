//! The resource types of SPEC §4, as data: table, fields, who may see them.
//! The generic handlers, validation, list filters and rendering all read these
//! definitions, so a field is declared once.

/// How a field is stored and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
    Float,
    Bool,
    /// Any JSON value, stored as text.
    Json,
    /// A JSON object, stored as text.
    Object,
    /// A JSON array of strings, stored as text.
    Tags,
    /// RFC 3339 in the API, ms in storage.
    Time,
    /// `YYYY-MM-DD`.
    Date,
    /// Write-only secret: stored encrypted in `column`, shown masked from `<column without _enc>_hint`-style hint column.
    Secret {
        hint_column: &'static str,
    },
    /// Write-only object of secrets (headers, env): stored encrypted, shown with masked values.
    SecretMap,
    /// Write-only password, stored as an Argon2id hash.
    Password,
    /// A provider referenced by name in the API, by id in storage.
    ProviderName,
    /// Another row's id; `same_project` rows must belong to the same project.
    Ref {
        table: &'static str,
        same_project: bool,
    },
}

/// One field of a resource type.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub column: &'static str,
    pub kind: Kind,
    /// Must be given on add (and on PUT).
    pub required: bool,
    /// Can be used as a list filter (`?name=value`).
    pub filter: bool,
    /// Allowed values for a text field.
    pub one_of: &'static [&'static str],
    /// Maximum length of a text value (0 = the default cap).
    pub max_len: usize,
}

const fn f(name: &'static str, kind: Kind) -> Field {
    Field { name, column: name, kind, required: false, filter: false, one_of: &[], max_len: 0 }
}

impl Field {
    const fn req(mut self) -> Self {
        self.required = true;
        self
    }
    const fn filt(mut self) -> Self {
        self.filter = true;
        self
    }
    const fn col(mut self, column: &'static str) -> Self {
        self.column = column;
        self
    }
    const fn of(mut self, values: &'static [&'static str]) -> Self {
        self.one_of = values;
        self
    }
    const fn max(mut self, n: usize) -> Self {
        self.max_len = n;
        self
    }
    /// Whether this field is never shown (passwords).
    pub fn write_only(&self) -> bool {
        matches!(self.kind, Kind::Password)
    }
}

/// Who may see and change rows of a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everyone signed in may read; only admins write (providers, models).
    SharedCatalog,
    /// Admins only (provider keys, gateway settings).
    AdminOnly,
    /// Rows owned through a `user_id` column (projects, API keys, sessions).
    Owner,
    /// Rows inside a project (`project_id`), visible to the project's owner.
    Project,
    /// Users themselves: a user sees and edits only their own row.
    Users,
}

/// Which verbs a type supports on the generic endpoints.
#[derive(Debug, Clone, Copy)]
pub struct Verbs {
    pub add: bool,
    pub update: bool,
    pub del: bool,
}

const ALL: Verbs = Verbs { add: true, update: true, del: true };

/// One resource type.
#[derive(Debug)]
pub struct ResourceDef {
    /// Name in add/update/del paths (`agent`).
    pub singular: &'static str,
    /// Name in list paths (`agents`).
    pub plural: &'static str,
    pub table: &'static str,
    pub scope: Scope,
    pub verbs: Verbs,
    pub fields: &'static [Field],
}

impl ResourceDef {
    /// How lists of this type are ordered and counted: the request log grows
    /// without bound and is listed as a log (see [`spgw_store::repo::table::Listing`]).
    pub fn listing(&self) -> spgw_store::repo::table::Listing {
        match self.table {
            "request_log" => spgw_store::repo::table::Listing::Log,
            _ => spgw_store::repo::table::Listing::Counted,
        }
    }

    /// The field of this name.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

use Kind::*;

const PROJECT: Field = f("project_id", Ref { table: "projects", same_project: false }).req().filt();
const AGENT: Field = f("agent_id", Ref { table: "agents", same_project: true }).filt();

/// Every resource type.
pub static RESOURCES: &[ResourceDef] = &[
    ResourceDef {
        singular: "provider",
        plural: "providers",
        table: "providers",
        scope: Scope::SharedCatalog,
        verbs: ALL,
        fields: &[
            f("name", Text).req().filt().max(64),
            f("display_name", Text).max(191),
            f("base_url", Text).req().max(1024),
            f("protocol", Text).filt().of(&["openai", "anthropic", "google"]),
            f("enabled", Bool).filt(),
            f("config", Object),
        ],
    },
    ResourceDef {
        singular: "provider-key",
        plural: "provider-keys",
        table: "provider_keys",
        scope: Scope::AdminOnly,
        verbs: ALL,
        fields: &[
            f("provider", ProviderName).req().filt().col("provider_id"),
            f("name", Text).req().max(191),
            f("key", Secret { hint_column: "key_hint" }).req().col("key_enc").max(4096),
            f("enabled", Bool).filt(),
            f("status", Text).filt().of(&["ok", "failing"]),
        ],
    },
    ResourceDef {
        singular: "model",
        plural: "models",
        table: "models",
        scope: Scope::SharedCatalog,
        verbs: ALL,
        fields: &[
            f("provider", ProviderName).req().filt().col("provider_id"),
            f("model_code", Text).req().filt().max(191),
            f("name", Text).max(191),
            f("features", Tags),
            f("output_formats", Tags),
            f("supports_mcp", Bool).filt(),
            f("context_window", Int),
            f("max_output_tokens", Int),
            f("pricing", Object),
            f("enabled", Bool).filt(),
        ],
    },
    ResourceDef {
        singular: "user",
        plural: "users",
        table: "users",
        scope: Scope::Users,
        verbs: ALL,
        fields: &[
            f("username", Text).req().filt().max(191),
            f("password", Password).req().col("password_hash").max(1024),
            f("email", Text).max(191),
            f("role", Text).filt().of(&["admin", "user"]),
            f("enabled", Bool).filt(),
            // Rate limits and budgets (see `spgw_routing::Limits`); only admins change them.
            f("limits", Object),
        ],
    },
    ResourceDef {
        singular: "gateway-api-key",
        plural: "gateway-api-keys",
        table: "gateway_api_keys",
        scope: Scope::Owner,
        verbs: Verbs { add: true, update: false, del: true },
        fields: &[
            f("name", Text).req().max(191),
            f("user_id", Ref { table: "users", same_project: false }).filt(),
            f("expires_at", Time),
            f("limits", Object),
        ],
    },
    ResourceDef {
        singular: "gateway-config",
        plural: "gateway-config",
        table: "gateway_config",
        scope: Scope::AdminOnly,
        verbs: ALL,
        fields: &[f("key", Text).req().filt().col("config_key").max(191), f("value", Json).req()],
    },
    ResourceDef {
        singular: "project",
        plural: "projects",
        table: "projects",
        scope: Scope::Owner,
        verbs: ALL,
        fields: &[
            f("name", Text).req().max(191),
            f("description", Text),
            f("user_id", Ref { table: "users", same_project: false }).filt(),
            // Tasks of the project running at once (null: `tasks.max_concurrent_per_project`).
            f("max_concurrent_tasks", Int),
        ],
    },
    ResourceDef {
        singular: "agent",
        plural: "agents",
        table: "agents",
        scope: Scope::Project,
        verbs: ALL,
        fields: &[
            PROJECT,
            f("name", Text).req().max(191),
            f("job_title", Text).max(191),
            f("role", Text),
            f("job_tags", Tags),
            f("soul", Text),
            // Stored in agent_models; handled by the service.
            f("models", Json).col(""),
            f("codebase_id", Ref { table: "codebases", same_project: true }).filt(),
            f("enabled", Bool).filt(),
            f("max_concurrent_tasks", Int),
            f("config", Object),
        ],
    },
    ResourceDef {
        singular: "task",
        plural: "tasks",
        table: "tasks",
        scope: Scope::Project,
        verbs: ALL,
        fields: &[
            PROJECT,
            f("title", Text).req().max(191),
            f("description", Text),
            f("tags", Tags),
            f("schedule", Json),
            f("parent_task_id", Ref { table: "tasks", same_project: true }).filt(),
            f("status", Text).filt().of(&[
                "pending",
                "scheduled",
                "running",
                "completed",
                "failed",
                "cancelled",
                "blocked",
            ]),
            f("kind", Text).filt().of(&["one_off", "scheduled", "spawned", "external"]),
            f("priority", Int),
            f("max_attempts", Int),
            f("limits", Object),
            AGENT,
        ],
    },
    ResourceDef {
        singular: "report",
        plural: "reports",
        table: "reports",
        scope: Scope::Project,
        verbs: ALL,
        fields: &[
            PROJECT,
            f("title", Text).req().max(191),
            f("period", Text).req().filt().of(&["monthly", "annual"]),
            f("period_start", Date).req().filt(),
            f("content", Text),
            AGENT,
        ],
    },
    ResourceDef {
        singular: "document",
        plural: "documents",
        table: "documents",
        scope: Scope::Project,
        verbs: ALL,
        fields: &[
            PROJECT,
            f("title", Text).req().max(191),
            f("content", Text),
            f("description", Text),
            f("extended_description", Text),
            AGENT,
        ],
    },
    ResourceDef {
        singular: "codebase",
        plural: "codebases",
        table: "codebases",
        scope: Scope::Project,
        verbs: ALL,
        fields: &[
            PROJECT,
            f("name", Text).req().max(191),
            f("repo_url", Text).max(1024),
            f("architecture_notes", Text),
            f("preferred_stack", Text),
            f("prerequisites", Text),
            f("enabled", Bool).filt(),
            f("runtime_config", Object),
        ],
    },
    ResourceDef {
        singular: "resource",
        plural: "resources",
        table: "resources",
        scope: Scope::Project,
        verbs: ALL,
        fields: &[
            PROJECT,
            AGENT,
            f("resource_type", Text).req().filt().max(32),
            f("name", Text).req().filt().max(191),
            f("description", Text),
            f("config", Object),
        ],
    },
    ResourceDef {
        singular: "asset",
        plural: "assets",
        table: "assets",
        scope: Scope::Project,
        verbs: ALL,
        fields: &[
            PROJECT,
            AGENT,
            f("name", Text).req().max(191),
            f("asset_type", Text).req().filt().max(64),
            f("uri", Text).max(1024),
            f("description", Text),
        ],
    },
    ResourceDef {
        singular: "credential",
        plural: "credentials",
        table: "credentials",
        scope: Scope::Project,
        verbs: ALL,
        fields: &[
            PROJECT,
            AGENT,
            f("asset_id", Ref { table: "assets", same_project: true }).filt(),
            f("name", Text).req().max(191),
            f("credential_type", Text).req().filt().max(64),
            f("secret", Secret { hint_column: "secret_hint" }).req().col("secret_enc").max(65536),
        ],
    },
    ResourceDef {
        singular: "mcp-tool",
        plural: "mcp-tools",
        table: "mcp_tools",
        scope: Scope::Project,
        verbs: ALL,
        fields: &[
            f("project_id", Ref { table: "projects", same_project: false }).filt(),
            f("name", Text).req().max(191),
            f("transport", Text).req().filt().of(&["stdio", "http"]),
            f("command", Text).max(1024),
            f("args", Tags),
            f("env", SecretMap).col("env_enc"),
            f("url", Text).max(1024),
            f("headers", SecretMap).col("headers_enc"),
            f("enabled", Bool).filt(),
            // Override `mcp.call_timeout_seconds` / `mcp.max_output_bytes` for this server.
            f("call_timeout_seconds", Int),
            f("max_output_bytes", Int),
        ],
    },
    ResourceDef {
        singular: "request-log",
        plural: "request-logs",
        table: "request_log",
        scope: Scope::Owner,
        verbs: Verbs { add: false, update: false, del: false },
        fields: &[
            f("request_id", Text).filt(),
            f("user_id", Ref { table: "users", same_project: false }).filt(),
            f("api_key_id", Int).filt(),
            f("project_id", Int).filt(),
            f("agent_id", Int).filt(),
            f("task_id", Int).filt(),
            f("session_id", Text).filt(),
            f("endpoint", Text).filt(),
            f("provider", Text).filt(),
            f("model", Text).filt(),
            f("status_code", Int).filt(),
            f("error_code", Text).filt(),
        ],
    },
    ResourceDef {
        singular: "session",
        plural: "sessions",
        table: "sessions",
        scope: Scope::Owner,
        verbs: Verbs { add: false, update: false, del: true },
        fields: &[
            f("session_id", Text).filt(),
            f("user_id", Ref { table: "users", same_project: false }).filt(),
            f("project_id", Ref { table: "projects", same_project: false }).filt(),
            f("agent_id", Ref { table: "agents", same_project: false }).filt(),
            f("task_id", Int).filt(),
            f("title", Text),
        ],
    },
];

/// The type named by a list path (`agents`).
pub fn by_plural(name: &str) -> Option<&'static ResourceDef> {
    RESOURCES.iter().find(|d| d.plural == name)
}

/// The type named by an add/update/del path (`agent`).
pub fn by_singular(name: &str) -> Option<&'static ResourceDef> {
    RESOURCES.iter().find(|d| d.singular == name)
}

/// Valid names for a path, for the 404 message.
pub fn valid_names(plural: bool, verb: fn(&ResourceDef) -> bool) -> String {
    RESOURCES
        .iter()
        .filter(|d| verb(d))
        .map(|d| if plural { d.plural } else { d.singular })
        .collect::<Vec<_>>()
        .join(", ")
}
