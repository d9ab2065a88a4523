//! Start-up sync of the built-in catalog into the `providers` and `models`
//! tables. New providers and models are inserted; catalog models an operator
//! has not edited are refreshed (features, formats, prices); rows an operator
//! edited (`edited = 1`) or added (`source = 'operator'`) are never touched, and
//! a provider's `base_url`, `enabled` and keys always stay as the operator set them.

use serde_json::json;
use spgw_core::time::now_ms;
use spgw_providers::catalog::{PROVIDERS, Protocol};
use spgw_store::{Db, Value};

use crate::RouteError;

/// What the sync did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub providers_added: usize,
    pub models_added: usize,
    pub models_updated: usize,
}

fn protocol_name(p: Protocol) -> &'static str {
    match p {
        Protocol::OpenAi => "openai",
        Protocol::Anthropic => "anthropic",
        Protocol::Google => "google",
    }
}

/// Brings the catalog tables up to date with the compiled-in catalog.
pub async fn sync(db: &Db) -> Result<SyncReport, RouteError> {
    let mut report = SyncReport::default();
    let now = now_ms();
    for spec in PROVIDERS {
        let existing = db.fetch_optional("SELECT id FROM providers WHERE name = ?", &[spec.name.into()]).await?;
        let provider_id = match existing.and_then(|r| r.i64("id")) {
            Some(id) => id,
            None => {
                report.providers_added += 1;
                db.execute(
                    "INSERT INTO providers (name, display_name, protocol, base_url, enabled, builtin, created_at, updated_at) \
                     VALUES (?, ?, ?, ?, 1, 1, ?, ?)",
                    &[
                        spec.name.into(),
                        spec.display_name.into(),
                        protocol_name(spec.protocol).into(),
                        spec.default_base_url.into(),
                        now.into(),
                        now.into(),
                    ],
                )
                .await?
                .last_insert_id
            }
        };
        for m in (spec.models)() {
            let features = json!(m.features).to_string();
            let formats = json!(m.output_formats).to_string();
            let pricing = serde_json::to_string(&m.pricing).unwrap_or_else(|_| "{}".into());
            let row = db
                .fetch_optional(
                    "SELECT id, edited, source FROM models WHERE provider_id = ? AND model_code = ?",
                    &[provider_id.into(), m.code.into()],
                )
                .await?;
            let values: [Value; 7] = [
                m.display_name.into(),
                features.into(),
                formats.into(),
                m.supports_mcp.into(),
                (m.context_window as i64).into(),
                (m.max_output_tokens as i64).into(),
                pricing.into(),
            ];
            match row {
                None => {
                    report.models_added += 1;
                    let mut args = vec![provider_id.into(), m.code.into()];
                    args.extend(values);
                    args.extend([now.into(), now.into()]);
                    db.execute(
                        "INSERT INTO models (provider_id, model_code, name, features, output_formats, supports_mcp, \
                         context_window, max_output_tokens, pricing, enabled, source, edited, created_at, updated_at) \
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 'catalog', 0, ?, ?)",
                        &args,
                    )
                    .await?;
                }
                Some(r) if !r.bool("edited") && r.str("source") == Some("catalog") => {
                    let mut args: Vec<Value> = values.into();
                    args.push(r.get("id").clone());
                    let n = db
                        .execute(
                            "UPDATE models SET name = ?, features = ?, output_formats = ?, supports_mcp = ?, \
                             context_window = ?, max_output_tokens = ?, pricing = ? WHERE id = ?",
                            &args,
                        )
                        .await?;
                    report.models_updated += n.rows_affected as usize;
                }
                Some(_) => {}
            }
        }
    }
    Ok(report)
}
