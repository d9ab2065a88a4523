//! Task templates of triggers: JSON with `{{placeholders}}` filled from the firing
//! (`{{payload.pr.title}}`, `{{trigger.name}}`, `{{fired_at}}`, `{{source}}`). A string
//! that is exactly one placeholder takes the value itself (so `"tags": "{{payload.labels}}"`
//! can give an array); elsewhere values are inserted as text; unknown paths are empty.

use serde_json::{Map, Value as Json};
use spgw_store::Db;

use crate::error::{Result, TaskError};
use crate::model::NewTask;

const KEYS: &[&str] = &["title", "description", "tags", "priority", "max_attempts", "limits", "context", "agent_id"];

/// Looks up a dotted path (`payload.items.0.name`) in `ctx`.
fn lookup<'a>(ctx: &'a Json, path: &str) -> Option<&'a Json> {
    path.split('.').try_fold(ctx, |v, key| match v {
        Json::Object(m) => m.get(key),
        Json::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

fn as_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

fn fill_str(s: &str, ctx: &Json) -> Json {
    let trimmed = s.trim();
    if let Some(inner) = trimmed.strip_prefix("{{").and_then(|r| r.strip_suffix("}}"))
        && !inner.contains("{{")
    {
        return lookup(ctx, inner.trim()).cloned().unwrap_or(Json::String(String::new()));
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                out.push_str(&lookup(ctx, after[..end].trim()).map(as_text).unwrap_or_default());
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    Json::String(out)
}

/// Fills every string of `template` from `ctx`.
pub fn fill(template: &Json, ctx: &Json) -> Json {
    match template {
        Json::String(s) => fill_str(s, ctx),
        Json::Array(a) => Json::Array(a.iter().map(|v| fill(v, ctx)).collect()),
        Json::Object(m) => Json::Object(m.iter().map(|(k, v)| (k.clone(), fill(v, ctx))).collect::<Map<_, _>>()),
        other => other.clone(),
    }
}

/// Turns a filled template into a task of `project_id`; an empty title falls back to `fallback_title`.
pub(crate) fn to_new_task(project_id: i64, filled: &Json, fallback_title: &str) -> Result<NewTask> {
    let mut obj = filled.as_object().cloned().unwrap_or_default();
    if obj.get("title").and_then(Json::as_str).is_none_or(|t| t.trim().is_empty()) {
        obj.insert("title".into(), Json::String(fallback_title.to_string()));
    }
    // A placeholder that produced text where a list belongs: "a, b" → ["a", "b"].
    if let Some(Json::String(s)) = obj.get("tags") {
        let tags: Vec<Json> =
            s.split(',').map(str::trim).filter(|t| !t.is_empty()).map(|t| Json::String(t.to_string())).collect();
        obj.insert("tags".into(), Json::Array(tags));
    }
    for key in ["description"] {
        if let Some(v) = obj.get(key).filter(|v| !v.is_string() && !v.is_null()) {
            let text = v.to_string();
            obj.insert(key.into(), Json::String(text));
        }
    }
    obj.insert("project_id".into(), project_id.into());
    serde_json::from_value::<NewTask>(Json::Object(obj))
        .map_err(|e| TaskError::invalid("task_template", format!("does not make a valid task: {e}")))
}

/// Checks a template: an object of known keys that makes a valid task once filled.
pub(crate) async fn validate(db: &Db, project_id: i64, template: &Json) -> Result<()> {
    let obj =
        template.as_object().ok_or_else(|| TaskError::invalid("task_template", "must be an object with a title"))?;
    if let Some(k) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(TaskError::invalid("task_template", format!("unknown key {k:?}; keys: {}", KEYS.join(", "))));
    }
    if !obj.get("title").is_some_and(Json::is_string) {
        return Err(TaskError::invalid("task_template.title", "is required (a string, may hold {{placeholders}})"));
    }
    let sample = fill_placeholders_with_sample(template);
    let t = to_new_task(project_id, &sample, "sample")?;
    // Everything but the database writes: limits, tags, attempts, agent of the project.
    crate::service::prepare(db, t).await.map(|_| ()).map_err(|e| match e {
        TaskError::Invalid { field, message } => TaskError::invalid(format!("task_template.{field}"), message),
        other => other,
    })
}

fn fill_placeholders_with_sample(t: &Json) -> Json {
    match t {
        Json::String(s) if s.contains("{{") => {
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(start) = rest.find("{{") {
                out.push_str(&rest[..start]);
                match rest[start..].find("}}") {
                    Some(end) => {
                        out.push_str("sample");
                        rest = &rest[start + end + 2..];
                    }
                    None => {
                        out.push_str(&rest[start..]);
                        rest = "";
                    }
                }
            }
            out.push_str(rest);
            Json::String(out)
        }
        Json::Array(a) => Json::Array(a.iter().map(fill_placeholders_with_sample).collect()),
        Json::Object(m) => Json::Object(m.iter().map(|(k, v)| (k.clone(), fill_placeholders_with_sample(v))).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fills_placeholders() {
        let ctx = json!({"payload": {"pr": {"title": "Fix bug", "n": 42}, "labels": ["a", "b"]},
                         "trigger": {"name": "gh"}});
        let t = json!({"title": "Review {{ payload.pr.title }} (#{{payload.pr.n}})", "tags": "{{payload.labels}}",
                       "description": "from {{trigger.name}}: {{payload.missing}}.", "priority": 3});
        let out = fill(&t, &ctx);
        assert_eq!(out["title"], "Review Fix bug (#42)");
        assert_eq!(out["tags"], json!(["a", "b"]));
        assert_eq!(out["description"], "from gh: .");
        assert_eq!(out["priority"], 3);
        assert_eq!(fill(&json!("unclosed {{x"), &ctx), json!("unclosed {{x"));
    }

    #[test]
    fn makes_tasks_with_fallbacks() {
        let t = to_new_task(7, &json!({"title": "", "tags": "x, y"}), "Trigger A").unwrap();
        assert_eq!((t.project_id, t.title.as_str()), (7, "Trigger A"));
        assert_eq!(t.tags, vec!["x", "y"]);
        assert!(to_new_task(7, &json!({"title": "t", "priority": "high"}), "f").is_err());
    }
}
