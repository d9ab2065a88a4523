//! Request bodies: JSON objects with our own error shape for malformed input
//! and oversize bodies (axum's default rejections are plain text).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// A JSON object body.
pub struct JsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(too_large_or_bad)?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(JsonObject(map)),
            Ok(_) => Err(ApiError::InvalidJson("the body must be a JSON object".into())),
            Err(e) => Err(ApiError::InvalidJson(e.to_string())),
        }
    }
}

/// Maps a body-reading failure to our error shape.
pub fn too_large_or_bad(e: BytesRejection) -> ApiError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge(0)
    } else {
        ApiError::BadRequest(e.body_text())
    }
}

/// A typed JSON body; a field of the wrong type is a 422 naming the field.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(too_large_or_bad)?;
        // Tracking the path costs on every body; it is only needed to name the
        // field of a failure, so a bad body is parsed a second time for that.
        match spgw_core::json::from_bytes::<T>(&bytes) {
            Ok(v) => Ok(JsonBody(v)),
            Err(e) if e.is_syntax() || e.is_eof() => Err(ApiError::InvalidJson(e.to_string())),
            Err(e) => {
                let mut de = serde_json::Deserializer::from_slice(&bytes);
                let path = match serde_path_to_error::deserialize::<_, T>(&mut de) {
                    Err(pe) => pe.path().to_string(),
                    Ok(_) => ".".to_string(), // only trailing input was wrong
                };
                Err(ApiError::field(if path == "." { "body".to_string() } else { path }, e.to_string()))
            }
        }
    }
}
