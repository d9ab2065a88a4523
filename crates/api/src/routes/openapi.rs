//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The gateway's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "SP Gateway", description = "Self-hosted AI gateway and agent workplace"),
    paths(
        super::health::health,
        super::login::login,
        super::login::logout,
        super::login::me,
        super::resources::list,
        super::resources::get,
        super::resources::add,
        super::resources::replace,
        super::resources::patch,
        super::resources::delete,
        super::chat::chat,
        crate::compat::openai::chat_completions,
        crate::compat::openai::list_models,
        crate::compat::openai::get_model,
        crate::compat::anthropic::messages,
        crate::compat::anthropic::count_tokens,
        super::sessions::list,
        super::sessions::get,
        super::sessions::delete,
        super::uploads::project_logo,
        super::uploads::agent_avatar,
        super::reports::generate,
        super::reports::download,
        super::documents::revisions,
        super::documents::revision,
        super::documents::diff,
        super::metrics::metrics,
        super::limits::set_key_limits,
        super::stats::stats,
        super::settings::known,
        super::codebases::queue,
        super::codebases::list,
        super::codebases::get_run,
        super::codebases::log,
        super::codebases::log_stream,
        super::codebases::cancel,
        super::codebases::host_key,
        super::codebases::forget_host_key,
        super::codebases::coding,
        super::mcp_tools::tools,
        super::mcp_tools::refresh,
        super::codebases::runner_claim,
        super::codebases::runner_heartbeat,
        super::codebases::runner_log,
        super::codebases::runner_host_key,
        super::codebases::runner_finish,
        super::codebases::runner_release,
        super::tasks::list,
        super::tasks::create,
        super::tasks::get,
        super::tasks::replace,
        super::tasks::patch,
        super::tasks::cancel,
        super::tasks::files::output,
        super::tasks::files::upload,
        super::tasks::files::attachments,
        super::tasks::files::attachment,
        super::tasks::spawn,
        super::tasks::tags,
        super::tasks::view,
        super::tasks::task_runs,
        super::tasks::firings,
        super::triggers::list,
        super::triggers::create,
        super::triggers::get,
        super::triggers::replace,
        super::triggers::patch,
        super::triggers::delete,
        super::triggers::fire,
        super::triggers::firings,
        super::triggers::rotate_secret,
        crate::media::native::embeddings,
        crate::media::native::images,
        crate::media::native::transcriptions,
        crate::media::native::speech,
        crate::media::native::music,
        crate::media::native::videos,
        document,
    ),
    components(schemas(super::login::LoginRequest, crate::chat::input::ChatBody, crate::chat::input::InMessage, crate::chat::input::McpConfig, crate::chat::input::Content, super::reports::GenerateBody, crate::media::input::EmbeddingsBody, crate::media::input::ImagesBody, crate::media::input::SpeechBody, crate::media::input::MusicBody, crate::media::input::VideoBody, crate::media::input::Texts)),
    modifiers(&Security, &UniqueOperationIds),
    security(("api_key" = []), ("bearer" = []), ("session_cookie" = []))
)]
pub struct ApiDoc;

struct Security;

/// Handler names repeat across modules (`list`, `get`, `delete`), but OpenAPI
/// wants every `operationId` unique (client generators refuse the document
/// otherwise), so a repeated one is qualified by its tag: `sessions_list`.
struct UniqueOperationIds;

impl Modify for UniqueOperationIds {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        fn ops(p: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
            [
                &mut p.get,
                &mut p.put,
                &mut p.post,
                &mut p.delete,
                &mut p.options,
                &mut p.head,
                &mut p.patch,
                &mut p.trace,
            ]
            .into_iter()
            .flatten()
        }
        let mut count = std::collections::HashMap::<String, usize>::new();
        for op in doc.paths.paths.values_mut().flat_map(ops) {
            if let Some(id) = &op.operation_id {
                *count.entry(id.clone()).or_default() += 1;
            }
        }
        let mut used = std::collections::HashSet::new();
        for op in doc.paths.paths.values_mut().flat_map(ops) {
            let Some(id) = op.operation_id.clone() else { continue };
            let mut unique = id.clone();
            if count.get(&id).is_some_and(|n| *n > 1) {
                let tag = op.tags.as_ref().and_then(|t| t.first()).map(String::as_str).unwrap_or("op");
                unique = format!("{tag}_{id}");
                let mut n = 2;
                while used.contains(&unique) {
                    unique = format!("{tag}_{id}_{n}");
                    n += 1;
                }
            }
            used.insert(unique.clone());
            op.operation_id = Some(unique);
        }
    }
}

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let c = doc.components.get_or_insert_with(Default::default);
        c.add_security_scheme("api_key", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))));
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        c.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::auth::SESSION_COOKIE))),
        );
    }
}

/// Serves the OpenAPI document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations", security(()),
    responses((status = 200, description = "OpenAPI 3.1 document")))]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(spec())
}

/// The document with its version filled in, as served and as `sp-gateway openapi` prints it.
pub fn spec() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc
}
