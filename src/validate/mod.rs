//! Validation: first the JSON Schema of each file, then the semantic rules that
//! span fields and files.
pub mod schema;
pub mod semantic;
