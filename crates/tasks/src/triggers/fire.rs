//! Firing a trigger: the cooldown compare-and-set, the task made from the template,
//! and the history row, all in one transaction; webhook secrets and signatures.

use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::Serialize;
use serde_json::{Value as Json, json};
use sha2::Sha256;
use spgw_core::MasterKey;
use spgw_core::time::{now_ms, to_rfc3339};
use spgw_store::{Db, Tx, Value};

use super::TriggerRow;
use super::template::{fill, to_new_task};
use crate::conditions;
use crate::error::{Result, TaskError};

/// Payloads larger than this are not copied into the task's context.
const MAX_PAYLOAD_IN_CONTEXT: usize = 32 * 1024;

/// What made a trigger fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Schedule,
    Condition,
    Webhook,
    /// A signed-in user pressed "fire" (an authenticated `POST .../fire`).
    Manual,
}

impl Source {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Schedule => "schedule",
            Source::Condition => "condition",
            Source::Webhook => "webhook",
            Source::Manual => "manual",
        }
    }
}

/// The result of a firing attempt.
#[derive(Debug, Clone, Serialize)]
pub struct FireResult {
    pub fired: bool,
    pub task_id: Option<i64>,
    /// `fired`, `cooldown`, `condition_false`, `disabled` or `error`.
    pub outcome: &'static str,
    pub reason: Option<String>,
}

/// A fresh webhook secret (`whsec_` + 64 hex digits).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("whsec_{}", hex::encode(bytes))
}

/// The signature header value of `body` under `secret`: `sha256=<hex HMAC-SHA256>`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    // HMAC takes keys of any length; new_from_slice cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { return String::new() };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a webhook signature (`sha256=<hex>` or bare hex) over the raw body, in constant time.
pub fn verify_signature(key: &MasterKey, t: &TriggerRow, body: &[u8], header: Option<&str>) -> Result<()> {
    let header = header.map(str::trim).filter(|h| !h.is_empty()).ok_or_else(|| {
        TaskError::BadSignature("missing X-Signature-256 header (sha256=<hex HMAC-SHA256 of the body>)".into())
    })?;
    let hex_sig = header.strip_prefix("sha256=").unwrap_or(header);
    let sig = hex::decode(hex_sig).map_err(|_| TaskError::BadSignature("the signature is not hex".into()))?;
    let stored = t.secret_enc.as_deref().ok_or_else(|| TaskError::BadSignature("the trigger has no secret".into()))?;
    let secret = key.decrypt(stored).map_err(|_| TaskError::BadSignature("cannot read the trigger's secret".into()))?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| TaskError::BadSignature("bad secret".into()))?;
    mac.update(body);
    mac.verify_slice(&sig).map_err(|_| TaskError::BadSignature("the signature does not match the body".into()))
}

/// Fires a trigger now (webhook or user): it must be enabled, its condition (if any)
/// must hold, and its cooldown must have passed. Refusals are kept in the history too.
pub async fn fire_now(db: &Db, t: &TriggerRow, source: Source, payload: Json) -> Result<FireResult> {
    let now = now_ms();
    let mut observed = Vec::new();
    let mut tx = db.begin().await?;
    if !t.enabled {
        let r = refuse("disabled", "the trigger is disabled".into());
        record(&mut tx, t.id, source, &r, Some(&payload), now).await?;
        tx.commit().await?;
        return Ok(r);
    }
    if let Some(c) = t.condition.as_ref().and_then(|c| conditions::parse("condition", c).ok()) {
        let ev = conditions::evaluate(db, t.project_id, &c, now).await?;
        if !ev.holds {
            let r = refuse("condition_false", format!("condition false: {}", Json::Array(ev.observed)));
            record(&mut tx, t.id, source, &r, Some(&payload), now).await?;
            tx.commit().await?;
            return Ok(r);
        }
        observed = ev.observed;
    }
    let r = fire_in(db, &mut tx, t, source, payload, observed, t.cooldown_seconds * 1000, true, now).await?;
    tx.commit().await?;
    Ok(r)
}

fn refuse(outcome: &'static str, reason: String) -> FireResult {
    FireResult { fired: false, task_id: None, outcome, reason: Some(reason) }
}

/// Inside `tx`: takes the cooldown (compare-and-set on `last_fired_at`), creates the task
/// and records the firing. With `record_refusal`, a cooldown refusal is recorded too.
#[allow(clippy::too_many_arguments)]
pub(super) async fn fire_in(
    db: &Db,
    tx: &mut Tx,
    t: &TriggerRow,
    source: Source,
    payload: Json,
    observed: Vec<Json>,
    cooldown_ms: i64,
    record_refusal: bool,
    now: i64,
) -> Result<FireResult> {
    let ctx = json!({
        "payload": payload,
        "trigger": {"id": t.id, "name": t.name},
        "source": source.as_str(),
        "fired_at": to_rfc3339(now),
        "metrics": observed,
    });
    let filled = fill(&t.task_template, &ctx);
    let prepared = match to_new_task(t.project_id, &filled, &t.name) {
        Ok(mut nt) => {
            nt.trigger_id = Some(t.id);
            nt.created_by = t.created_by;
            nt.context = Some(task_context(nt.context.take(), t, source, &payload, now));
            crate::service::prepare(db, nt).await
        }
        Err(e) => Err(e),
    };
    let values = match prepared {
        Ok(v) => v,
        Err(e) => {
            let r = refuse("error", format!("cannot create the task: {e}"));
            tx.execute("UPDATE triggers SET last_error = ? WHERE id = ?", &[e.to_string().into(), t.id.into()]).await?;
            record(tx, t.id, source, &r, Some(&payload), now).await?;
            return Ok(r);
        }
    };
    let took = tx
        .execute(
            "UPDATE triggers SET last_fired_at = ?, last_error = NULL WHERE id = ? AND enabled = 1 \
             AND (last_fired_at IS NULL OR last_fired_at <= ?)",
            &[now.into(), t.id.into(), (now - cooldown_ms).into()],
        )
        .await?
        .rows_affected
        == 1;
    if !took {
        let r = refuse("cooldown", format!("fired less than {} s ago (cooldown)", cooldown_ms / 1000));
        if record_refusal {
            record(tx, t.id, source, &r, Some(&payload), now).await?;
        }
        return Ok(r);
    }
    let task_id = crate::service::insert_tx(tx, &values).await?;
    let r = FireResult { fired: true, task_id: Some(task_id), outcome: "fired", reason: None };
    record(tx, t.id, source, &r, Some(&payload), now).await?;
    Ok(r)
}

/// The created task's context: the template's, plus where it came from and the payload.
fn task_context(own: Option<Json>, t: &TriggerRow, source: Source, payload: &Json, now: i64) -> Json {
    let mut ctx = match own {
        Some(Json::Object(m)) => m,
        Some(other) => [("value".to_string(), other)].into_iter().collect(),
        None => Default::default(),
    };
    ctx.insert(
        "trigger".into(),
        json!({"id": t.id, "name": t.name, "source": source.as_str(), "fired_at": to_rfc3339(now)}),
    );
    if !payload.is_null() {
        if payload.to_string().len() <= MAX_PAYLOAD_IN_CONTEXT {
            ctx.insert("payload".into(), payload.clone());
        } else {
            ctx.insert("payload_omitted".into(), json!("larger than 32 KiB; see the trigger's firing history"));
        }
    }
    Json::Object(ctx)
}

/// Appends a history row.
pub(super) async fn record(
    tx: &mut Tx,
    trigger_id: i64,
    source: Source,
    r: &FireResult,
    payload: Option<&Json>,
    now: i64,
) -> Result<()> {
    let payload = payload.filter(|p| !p.is_null()).map(|p| {
        let text = p.to_string();
        if text.len() > 256 * 1024 { json!({"omitted": "payload larger than 256 KiB"}).to_string() } else { text }
    });
    tx.execute(
        "INSERT INTO trigger_firings (trigger_id, source, outcome, reason, task_id, payload, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[
            trigger_id.into(),
            source.as_str().into(),
            r.outcome.into(),
            r.reason.clone().into(),
            r.task_id.into(),
            payload.into(),
            Value::Int(now),
        ],
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_reject() {
        let key = MasterKey::from_bytes(&[7u8; 32]).unwrap();
        let secret = new_secret();
        assert!(secret.starts_with("whsec_") && secret.len() == 6 + 64);
        let t = TriggerRow { secret_enc: Some(key.encrypt(&secret)), ..TriggerRow::default() };
        let body = br#"{"x":1}"#;
        let sig = sign(&secret, body);
        assert!(verify_signature(&key, &t, body, Some(&sig)).is_ok());
        assert!(verify_signature(&key, &t, body, Some(sig.trim_start_matches("sha256="))).is_ok());
        assert!(verify_signature(&key, &t, br#"{"x":2}"#, Some(&sig)).is_err());
        assert!(verify_signature(&key, &t, body, Some("sha256=zz")).is_err());
        assert!(verify_signature(&key, &t, body, None).is_err());
        // Known vector: RFC 4231 test case 2.
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
