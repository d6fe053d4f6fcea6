//! The success envelope of the reference: `{"success": true, "message", "data", "errors": null}`.

use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::{Array, ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};

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
    /// Where the error is: `["body", "items", 0, "price"]` (names are strings, list indices and
    /// JSON offsets integers).
    #[schema(schema_with = loc_schema, example = json!(["body", "items", 0, "price"]))]
    pub loc: Vec<serde_json::Value>,
    #[schema(example = "field required")]
    pub msg: String,
    #[serde(rename = "type")]
    #[schema(example = "value_error.missing")]
    pub kind: String,
}

/// `loc`: an array whose entries are strings or integers, as FastAPI sends them.
fn loc_schema() -> Array {
    ArrayBuilder::new()
        .items(
            OneOfBuilder::new()
                .item(ObjectBuilder::new().schema_type(Type::String))
                .item(ObjectBuilder::new().schema_type(Type::Integer)),
        )
        .build()
}

/// `{"detail": [{"loc", "msg", "type"}, …]}`: every problem of the request at once (422 for
/// shape, type and bounds; 400 for the invoice's business rules).
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidationErrorResponse {
    pub detail: Vec<ValidationErrorItem>,
}

/// A 400: `{"detail": "…"}` (Factus refused, or another single reason) or the list of the
/// invoice's broken business rules.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum BadRequestResponse {
    Detail(DetailResponse),
    Rules(ValidationErrorResponse),
}
