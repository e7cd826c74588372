//! Identity JSON schemas: loading and checking them at start-up, validating traits,
//! and reading the `ory.sh/kratos` extension (password identifiers, verifiable and
//! recoverable addresses) plus what the UI needs to render a trait as a form field.

use crate::crypto;
use jsonschema::error::ValidationErrorKind;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The built-in email + password schema (Kratos's quickstart schema).
pub const DEFAULT_SCHEMA: &str = include_str!("default.schema.json");
pub const DEFAULT_SCHEMA_ID: &str = "default";

/// One leaf trait, as the schema describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct TraitField {
    /// Dotted form-field name, e.g. `traits.name.first`.
    pub name: String,
    /// JSON-pointer segments below `traits`, e.g. `["name", "first"]`.
    pub path: Vec<String>,
    pub json_type: String,
    pub format: Option<String>,
    pub title: Option<String>,
    pub required: bool,
    pub pattern: Option<String>,
    pub max_length: Option<u64>,
    pub options: Vec<Value>,
    pub password_identifier: bool,
    pub verification_via: Option<String>,
    pub recovery_via: Option<String>,
}

/// What the extension derives from a set of traits.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Derived {
    /// Normalized login identifiers for the password credential, without duplicates.
    pub password_identifiers: Vec<String>,
    /// `(via, normalized value)` pairs.
    pub verifiable: Vec<(String, String)>,
    pub recoverable: Vec<(String, String)>,
}

/// One way traits failed their schema, pointed at the field that failed.
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    /// Form-field name (`traits.email`), or empty for the document as a whole.
    pub field: String,
    pub kind: ViolationKind,
    /// The validator's explanation, safe to show (it describes the caller's input).
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ViolationKind {
    Missing { property: String },
    Format { format: String, value: String },
    MinLength { min: u64, actual: u64 },
    MaxLength { max: u64, actual: u64 },
    Pattern { pattern: String },
    Type { expected: String, actual: String },
    Other,
}

pub struct IdentitySchema {
    pub id: String,
    pub raw: Value,
    validator: jsonschema::Validator,
    pub fields: Vec<TraitField>,
}

impl std::fmt::Debug for IdentitySchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentitySchema")
            .field("id", &self.id)
            .finish()
    }
}

impl IdentitySchema {
    /// Parses and checks a schema document; `origin` names it in errors.
    pub fn parse(id: &str, text: &str, origin: &str) -> anyhow::Result<IdentitySchema> {
        let raw: Value = serde_json::from_str(text)
            .map_err(|e| anyhow::anyhow!("identity schema {origin} is not valid JSON: {e}"))?;
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&raw)
            .map_err(|e| {
                anyhow::anyhow!("identity schema {origin} is not a valid JSON Schema: {e}")
            })?;
        let traits = raw
            .pointer("/properties/traits")
            .filter(|t| t.get("type").and_then(Value::as_str) == Some("object"))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "identity schema {origin} must define `properties.traits` as an object"
                )
            })?;
        let mut fields = Vec::new();
        collect_fields(traits, &mut Vec::new(), true, &mut fields);
        Ok(IdentitySchema {
            id: id.to_owned(),
            raw,
            validator,
            fields,
        })
    }

    /// Validates traits (as Kratos does, wrapped as `{"traits": …}`).
    pub fn validate(&self, traits: &Value) -> Result<(), Vec<Violation>> {
        let doc = json!({ "traits": traits });
        let violations: Vec<Violation> = self
            .validator
            .iter_errors(&doc)
            .map(|e| {
                violation(
                    e.instance_path().as_str(),
                    e.kind(),
                    e.instance(),
                    e.to_string(),
                )
            })
            .collect();
        if violations.is_empty() {
            Ok(())
        } else {
            Err(violations)
        }
    }

    /// Login identifiers and addresses named by the extension, read from `traits`.
    pub fn derive(&self, traits: &Value) -> Derived {
        let mut d = Derived::default();
        for field in &self.fields {
            for value in field_values(traits, &field.path) {
                let value = super::normalize_identifier(value);
                if value.is_empty() {
                    continue;
                }
                if field.password_identifier && !d.password_identifiers.contains(&value) {
                    d.password_identifiers.push(value.clone());
                }
                if let Some(via) = &field.verification_via {
                    push_unique(&mut d.verifiable, (via.clone(), value.clone()));
                }
                if let Some(via) = &field.recovery_via {
                    push_unique(&mut d.recoverable, (via.clone(), value.clone()));
                }
            }
        }
        d
    }

    /// Form bodies carry every value as a string: turn the ones whose schema type is
    /// number, integer or boolean into JSON numbers and booleans (Kratos decodes
    /// forms against the schema the same way). Values that do not parse stay
    /// strings, so validation reports them.
    pub fn coerce_form_traits(&self, traits: &mut Value) {
        for field in &self.fields {
            let Some(slot) = pointer_mut(traits, &field.path) else {
                continue;
            };
            let Value::String(raw) = slot else { continue };
            let coerced = match field.json_type.as_str() {
                "integer" => raw.trim().parse::<i64>().ok().map(Value::from),
                "number" => raw
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number),
                "boolean" => match raw.as_str() {
                    "true" | "on" | "1" => Some(Value::Bool(true)),
                    "false" | "off" | "0" => Some(Value::Bool(false)),
                    _ => None,
                },
                _ => None,
            };
            if let Some(v) = coerced {
                *slot = v;
            }
        }
    }

    /// The title of the one password-identifier trait, if there is exactly one
    /// (Kratos labels the login `identifier` field with it).
    pub fn identifier_field(&self) -> Option<&TraitField> {
        let mut ids = self.fields.iter().filter(|f| f.password_identifier);
        match (ids.next(), ids.next()) {
            (Some(f), None) => Some(f),
            _ => None,
        }
    }
}

fn pointer_mut<'a>(root: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(root, |at, seg| at.get_mut(seg))
}

/// The value at `path` below `traits`, if present.
pub fn trait_value<'a>(traits: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(traits, |at, seg| at.get(seg))
}

fn push_unique(list: &mut Vec<(String, String)>, item: (String, String)) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// The string values at `path` below traits: one string, or each string of an array.
fn field_values<'a>(traits: &'a Value, path: &[String]) -> Vec<&'a str> {
    let mut at = traits;
    for seg in path {
        match at.get(seg) {
            Some(v) => at = v,
            None => return Vec::new(),
        }
    }
    match at {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn collect_fields(node: &Value, path: &mut Vec<String>, required: bool, out: &mut Vec<TraitField>) {
    let Some(props) = node.get("properties").and_then(Value::as_object) else {
        return;
    };
    let required_names: Vec<&str> = node
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (key, prop) in props {
        path.push(key.clone());
        let is_required = required && required_names.contains(&key.as_str());
        let json_type = prop.get("type").and_then(Value::as_str).unwrap_or("string");
        if json_type == "object" {
            collect_fields(prop, path, is_required, out);
        } else {
            out.push(trait_field(prop, path, json_type, is_required));
        }
        path.pop();
    }
}

fn trait_field(prop: &Value, path: &[String], json_type: &str, required: bool) -> TraitField {
    let ext = prop
        .get("ory.sh/kratos")
        .or_else(|| prop.pointer("/items/ory.sh~1kratos"));
    let text = |p: &str| prop.get(p).and_then(Value::as_str).map(str::to_owned);
    TraitField {
        name: format!("traits.{}", path.join(".")),
        path: path.to_vec(),
        json_type: json_type.to_owned(),
        format: text("format"),
        title: text("title"),
        required,
        pattern: text("pattern"),
        max_length: prop.get("maxLength").and_then(Value::as_u64),
        options: prop
            .get("enum")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        password_identifier: ext
            .and_then(|e| e.pointer("/credentials/password/identifier"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
        verification_via: ext
            .and_then(|e| e.pointer("/verification/via"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        recovery_via: ext
            .and_then(|e| e.pointer("/recovery/via"))
            .and_then(Value::as_str)
            .map(str::to_owned),
    }
}

/// Turns one validator error into a field-level violation (Kratos's
/// `translateValidationError`: the instance pointer names the node).
fn violation(
    pointer: &str,
    kind: &ValidationErrorKind,
    instance: &Value,
    message: String,
) -> Violation {
    let mut field = pointer_to_field(pointer);
    let kind = match kind {
        ValidationErrorKind::Required { property } => {
            let property = property.as_str().unwrap_or_default().to_owned();
            field = if field.is_empty() {
                property.clone()
            } else {
                format!("{field}.{property}")
            };
            ViolationKind::Missing { property }
        }
        ValidationErrorKind::Format { format } => ViolationKind::Format {
            format: format.clone(),
            value: instance.as_str().unwrap_or_default().to_owned(),
        },
        ValidationErrorKind::MinLength { limit } => ViolationKind::MinLength {
            min: *limit,
            actual: char_len(instance),
        },
        ValidationErrorKind::MaxLength { limit } => ViolationKind::MaxLength {
            max: *limit,
            actual: char_len(instance),
        },
        ValidationErrorKind::Pattern { pattern } => ViolationKind::Pattern {
            pattern: pattern.clone(),
        },
        ValidationErrorKind::Type { kind } => ViolationKind::Type {
            expected: format!("{kind:?}").to_lowercase(),
            actual: json_type_name(instance).to_owned(),
        },
        _ => ViolationKind::Other,
    };
    Violation {
        field,
        kind,
        message,
    }
}

fn char_len(v: &Value) -> u64 {
    v.as_str().map_or(0, |s| s.chars().count() as u64)
}

fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `/traits/name/first` → `traits.name.first`; `` → ``.
fn pointer_to_field(pointer: &str) -> String {
    pointer
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".")
}

/// All configured schemas, by id.
#[derive(Debug)]
pub struct SchemaRegistry {
    schemas: BTreeMap<String, Arc<IdentitySchema>>,
    default_id: String,
}

impl SchemaRegistry {
    pub fn new(schemas: Vec<IdentitySchema>, default_id: &str) -> anyhow::Result<Self> {
        let schemas: BTreeMap<_, _> = schemas
            .into_iter()
            .map(|s| (s.id.clone(), Arc::new(s)))
            .collect();
        if !schemas.contains_key(default_id) {
            anyhow::bail!(
                "--default-schema-id is `{default_id}`, but no identity schema has that id (known: {})",
                schemas.keys().cloned().collect::<Vec<_>>().join(", ")
            );
        }
        Ok(SchemaRegistry {
            schemas,
            default_id: default_id.to_owned(),
        })
    }

    /// The built-in email + password schema alone.
    pub fn builtin() -> anyhow::Result<Self> {
        let schema = IdentitySchema::parse(DEFAULT_SCHEMA_ID, DEFAULT_SCHEMA, "(built-in)")?;
        Self::new(vec![schema], DEFAULT_SCHEMA_ID)
    }

    pub fn get(&self, id: &str) -> Option<&Arc<IdentitySchema>> {
        self.schemas.get(id)
    }

    /// Looks a schema up by its id or by the base64url form used in `schema_url`.
    pub fn get_by_id_or_encoded(&self, id: &str) -> Option<&Arc<IdentitySchema>> {
        self.get(id).or_else(|| {
            crypto::b64_url_nopad_decode(id)
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|decoded| self.get(&decoded))
        })
    }

    pub fn default_schema(&self) -> &Arc<IdentitySchema> {
        // The constructor guarantees the default id is present.
        self.schemas
            .get(&self.default_id)
            .or_else(|| self.schemas.values().next())
            .unwrap_or_else(|| unreachable_schema())
    }

    pub fn default_id(&self) -> &str {
        &self.default_id
    }

    pub fn all(&self) -> impl Iterator<Item = &Arc<IdentitySchema>> {
        self.schemas.values()
    }
}

#[expect(
    clippy::panic,
    reason = "SchemaRegistry::new rejects a registry without its default schema"
)]
fn unreachable_schema() -> &'static Arc<IdentitySchema> {
    panic!("schema registry without schemas")
}

/// `<public>/schemas/<base64url(id)>`, the identity's `schema_url`.
pub fn schema_url(public_base: &str, id: &str) -> String {
    format!(
        "{}/schemas/{}",
        public_base.trim_end_matches('/'),
        crypto::b64_url_nopad(id.as_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> Arc<IdentitySchema> {
        SchemaRegistry::builtin().unwrap().default_schema().clone()
    }

    #[test]
    fn builtin_schema_fields_follow_the_extension() {
        let s = builtin();
        let email = s.fields.iter().find(|f| f.name == "traits.email").unwrap();
        assert!(email.password_identifier && email.required);
        assert_eq!(email.verification_via.as_deref(), Some("email"));
        assert_eq!(email.title.as_deref(), Some("E-Mail"));
        let first = s
            .fields
            .iter()
            .find(|f| f.name == "traits.name.first")
            .unwrap();
        assert!(!first.required && !first.password_identifier);
        assert_eq!(s.identifier_field().unwrap().name, "traits.email");
    }

    #[test]
    fn derive_normalizes_identifiers_and_addresses() {
        let d = builtin().derive(&json!({"email": " Alice@Example.COM "}));
        assert_eq!(d.password_identifiers, vec!["alice@example.com"]);
        assert_eq!(
            d.verifiable,
            vec![("email".into(), "alice@example.com".into())]
        );
        assert_eq!(d.recoverable, d.verifiable);
    }

    #[test]
    fn violations_point_at_fields() {
        let s = builtin();
        let v = s.validate(&json!({"name": {"first": "A"}})).unwrap_err();
        assert_eq!(v[0].field, "traits.email");
        assert_eq!(
            v[0].kind,
            ViolationKind::Missing {
                property: "email".into()
            }
        );

        let v = s.validate(&json!({"email": "not-an-email"})).unwrap_err();
        assert_eq!(v[0].field, "traits.email");
        assert!(matches!(v[0].kind, ViolationKind::Format { .. }));

        let v = s
            .validate(&json!({"email": "a@b.c", "extra": 1}))
            .unwrap_err();
        assert_eq!(v[0].kind, ViolationKind::Other);

        assert!(s.validate(&json!({"email": "a@example.com"})).is_ok());
    }

    #[test]
    fn broken_schemas_are_rejected_with_their_origin() {
        let e = IdentitySchema::parse("x", "{nope", "/tmp/x.json").unwrap_err();
        assert!(e.to_string().contains("/tmp/x.json"));
        let e = IdentitySchema::parse("x", r#"{"type": 5}"#, "/tmp/y.json").unwrap_err();
        assert!(e.to_string().contains("/tmp/y.json"));
        let e = IdentitySchema::parse("x", r#"{"type": "object"}"#, "z.json").unwrap_err();
        assert!(e.to_string().contains("properties.traits"));
    }

    #[test]
    fn schema_url_uses_base64url_id() {
        assert_eq!(
            schema_url("http://h/", "default"),
            "http://h/schemas/ZGVmYXVsdA"
        );
        let reg = SchemaRegistry::builtin().unwrap();
        assert!(reg.get_by_id_or_encoded("ZGVmYXVsdA").is_some());
    }
}
