//! Prices stored with a model (`models.pricing`, the catalog's `Pricing` as JSON).

use serde_json::Value;
use spgw_providers::Pricing;

/// Reads a stored pricing object; missing fields are 0.
pub fn from_json(v: Option<&Value>) -> Pricing {
    let get = |k: &str| v.and_then(|p| p.get(k)).and_then(Value::as_f64).unwrap_or(0.0);
    Pricing {
        input_per_mtok: get("input_per_mtok"),
        output_per_mtok: get("output_per_mtok"),
        cached_input_per_mtok: get("cached_input_per_mtok"),
        cache_write_per_mtok: get("cache_write_per_mtok"),
        per_image: get("per_image"),
        per_second: get("per_second"),
    }
}
