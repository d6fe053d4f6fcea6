//! The success envelope of the reference: `{"success": true, "message", "data", "errors": null}`.

use serde::Serialize;
use utoipa::ToSchema;

/// Every success response except local login and health.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiResponse<T> {
    /// Always `true` on success.
    pub success: bool,
    /// A Spanish sentence saying what happened (`Factura creada exitosamente`).
    pub message: String,
    pub data: T,
    /// Always `null` on success; errors use FastAPI's `{"detail": …}` instead.
    #[schema(value_type = Option<Object>)]
    pub errors: Option<()>,
}

impl<T> ApiResponse<T> {
    pub fn ok(message: impl Into<String>, data: T) -> Self {
        Self { success: true, message: message.into(), data, errors: None }
    }
}

/// `{"detail": "…"}`, the body of every handled error.
#[derive(Debug, Serialize, ToSchema)]
pub struct DetailResponse {
    pub detail: String,
}

/// One entry of a validation error list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidationErrorItem {
    /// Where the error is: `["body", "items", 0, "price"]`.
    #[schema(value_type = Vec<Object>, example = json!(["body", "items", 0, "price"]))]
    pub loc: Vec<serde_json::Value>,
    #[schema(example = "field required")]
    pub msg: String,
    #[serde(rename = "type")]
    #[schema(example = "value_error.missing")]
    pub kind: String,
}

/// `{"detail": [{"loc", "msg", "type"}, …]}`: every problem of the request at once (422 for
/// shape, type and bounds; 400 for the invoice's business rules).
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidationErrorResponse {
    pub detail: Vec<ValidationErrorItem>,
}
