//! Validation: first the JSON Schema of each file, then the semantic rules that
//! span fields and files.
//!
//! Architecture invariant: validation reports findings as data; it never
//! prints, never reads a file and never renders.
pub(crate) mod schema;
pub(crate) mod semantic;
