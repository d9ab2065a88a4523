//! A small checker for the OpenAI OpenAPI document: enough of JSON Schema to
//! say whether a body matches a named component (`$ref`, `allOf`, `anyOf`,
//! `oneOf`, `type`, `nullable`, `enum`, `required`, `properties`,
//! `additionalProperties`, `items`, `minItems`/`maxItems`, `minimum`/`maximum`).
//!
//! One deliberate strictness: an object whose schema declares `properties`
//! may not carry keys the schema does not name (the document rarely says
//! `additionalProperties: false`, but a key it does not know is a typo or a
//! field another provider invented, and OpenAI rejects those).

use std::sync::OnceLock;

use serde_json::{Map, Value};

/// The OpenAI API description, shared by the tests of one binary.
pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/specs/openai-openapi.json");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
        serde_json::from_str(&text).expect("the OpenAPI document is JSON")
    })
}

/// Panics with every mismatch when `value` does not match component `name`.
#[track_caller]
pub fn assert_valid(name: &str, value: &Value) {
    let errors = validate(name, value);
    assert!(errors.is_empty(), "{name} mismatches:\n  {}\nin {value:#}", errors.join("\n  "));
}

/// The mismatches of `value` against component `name`.
pub fn validate(name: &str, value: &Value) -> Vec<String> {
    validate_ignoring(name, value, &|_| false)
}

/// The mismatches of `value` against component `name`, where a mismatch
/// `ignore` accepts does not count (also when choosing among `oneOf` branches).
pub fn validate_ignoring(name: &str, value: &Value, ignore: &dyn Fn(&str) -> bool) -> Vec<String> {
    let schema = spec()["components"]["schemas"].get(name).unwrap_or_else(|| panic!("no component {name}"));
    let mut errors = Errors { list: Vec::new(), ignore };
    check(value, schema, "$", true, &mut errors);
    errors.list
}

/// Mismatches found so far, minus the ignored ones.
struct Errors<'a> {
    list: Vec<String>,
    ignore: &'a dyn Fn(&str) -> bool,
}

impl Errors<'_> {
    fn push(&mut self, e: String) {
        if !(self.ignore)(&e) {
            self.list.push(e);
        }
    }

    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

fn resolve(schema: &Value) -> &Value {
    let mut s = schema;
    while let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("unsupported $ref {r}"));
        s = &spec()["components"]["schemas"][name];
    }
    s
}

/// Every property an object schema declares, through `allOf` and `$ref`.
fn declared(schema: &Value, out: &mut Map<String, Value>) -> bool {
    let s = resolve(schema);
    let mut any = false;
    if let Some(props) = s.get("properties").and_then(Value::as_object) {
        out.extend(props.iter().map(|(k, v)| (k.clone(), v.clone())));
        any = true;
    }
    for branch in s.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        any |= declared(branch, out);
    }
    any
}

fn type_ok(v: &Value, t: &str) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        _ => true,
    }
}

fn check(v: &Value, schema: &Value, path: &str, strict: bool, errors: &mut Errors) {
    let s = resolve(schema);
    if s.as_bool() == Some(true) || (v.is_null() && s.get("nullable").and_then(Value::as_bool) == Some(true)) {
        return;
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = s.get(key).and_then(Value::as_array) {
            let mut best: Option<Vec<String>> = None;
            for b in branches {
                let mut errs = Errors { list: Vec::new(), ignore: errors.ignore };
                check(v, b, path, strict, &mut errs);
                if errs.is_empty() {
                    best = None;
                    break;
                }
                if best.as_ref().is_none_or(|e| errs.list.len() < e.len()) {
                    best = Some(errs.list);
                }
            }
            if let Some(errs) = best {
                errors.push(format!("{path}: matches no branch of {key}; closest: [{}]", errs.join("; ")));
                return;
            }
        }
    }
    let all_of = s.get("allOf").and_then(Value::as_array);
    for b in all_of.into_iter().flatten() {
        // Unknown keys are judged once, against the union of the branches.
        check(v, b, path, false, errors);
    }
    match s.get("type") {
        Some(Value::String(t)) if !type_ok(v, t) => return errors.push(format!("{path}: expected {t}, got {v}")),
        Some(Value::Array(ts)) if !ts.iter().filter_map(Value::as_str).any(|t| type_ok(v, t)) => {
            return errors.push(format!("{path}: expected one of {ts:?}, got {v}"));
        }
        _ => {}
    }
    if let Some(allowed) = s.get("enum").and_then(Value::as_array)
        && !allowed.contains(v)
    {
        errors.push(format!("{path}: {v} not in {allowed:?}"));
    }
    if let Some(n) = v.as_f64() {
        if s.get("minimum").and_then(Value::as_f64).is_some_and(|m| n < m) {
            errors.push(format!("{path}: {n} below minimum {}", s["minimum"]));
        }
        if s.get("maximum").and_then(Value::as_f64).is_some_and(|m| n > m) {
            errors.push(format!("{path}: {n} above maximum {}", s["maximum"]));
        }
    }
    if let Some(items) = v.as_array() {
        if s.get("minItems").and_then(Value::as_u64).is_some_and(|m| (items.len() as u64) < m) {
            errors.push(format!("{path}: fewer than {} items", s["minItems"]));
        }
        if s.get("maxItems").and_then(Value::as_u64).is_some_and(|m| (items.len() as u64) > m) {
            errors.push(format!("{path}: more than {} items", s["maxItems"]));
        }
        if let Some(item_schema) = s.get("items") {
            for (i, item) in items.iter().enumerate() {
                check(item, item_schema, &format!("{path}[{i}]"), true, errors);
            }
        }
    }
    if let Some(obj) = v.as_object() {
        for r in s.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if !obj.contains_key(r) {
                errors.push(format!("{path}: missing required {r}"));
            }
        }
        if let Some(props) = s.get("properties").and_then(Value::as_object) {
            for (k, ps) in props {
                if let Some(child) = obj.get(k) {
                    check(child, ps, &format!("{path}.{k}"), true, errors);
                }
            }
        }
        if strict {
            let mut known = Map::new();
            if declared(s, &mut known) {
                let additional = s.get("additionalProperties");
                for (k, child) in obj.iter().filter(|(k, _)| !known.contains_key(*k)) {
                    match additional {
                        Some(Value::Bool(true)) => {}
                        Some(a @ Value::Object(_)) => check(child, a, &format!("{path}.{k}"), true, errors),
                        _ => errors.push(format!("{path}: unknown property {k}")),
                    }
                }
            }
        }
    }
}

/// Checks that `actual` has every key `doc` has, with the same JSON type,
/// recursively (`null` on either side matches anything: the documents use it
/// for optional values). Arrays compare element-wise by their `type` field
/// when they have one, else first element to first element.
pub fn shape_covers(doc: &Value, actual: &Value, path: &str, errors: &mut Vec<String>) {
    match (doc, actual) {
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Object(d), Value::Object(a)) => {
            for (k, dv) in d {
                match a.get(k) {
                    Some(av) => shape_covers(dv, av, &format!("{path}.{k}"), errors),
                    None => errors.push(format!("{path}: missing {k}")),
                }
            }
        }
        (Value::Array(d), Value::Array(a)) => {
            for (i, dv) in d.iter().enumerate() {
                let kind = dv.get("type");
                let matching = match kind {
                    Some(k) => a.iter().find(|av| av.get("type") == Some(k)),
                    None => a.first(),
                };
                if let Some(av) = matching {
                    shape_covers(dv, av, &format!("{path}[{i}]"), errors);
                }
            }
        }
        (d, a) if json_type(d) != json_type(a) => {
            errors.push(format!("{path}: documented {} but got {}", json_type(d), json_type(a)))
        }
        _ => {}
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        // JSON does not tell 1 from 1.0; the documents write both.
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Panics when `actual` does not cover `doc` (see [`shape_covers`]).
#[track_caller]
pub fn assert_shape(doc: &Value, actual: &Value) {
    let mut errors = Vec::new();
    shape_covers(doc, actual, "$", &mut errors);
    assert!(
        errors.is_empty(),
        "shape differs from the documented example:\n  {}\nactual: {actual:#}",
        errors.join("\n  ")
    );
}
