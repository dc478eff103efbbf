//! The configuration's dependency graph (`depends_on` and expression
//! references, through modules) and the zones that records' `zone_id`
//! expressions refer to.

use std::collections::HashMap;

use super::json::{ConfigModule, Field};
use super::providers::record_resource;
use super::zones::{strip_indexes, Zones};

/// One module on the way down the configuration: its address prefix and the
/// expressions of the `module` block that calls it.
pub(super) struct Frame<'p, 'a> {
    pub(super) prefix: String,
    pub(super) call: Option<&'p Field<'a>>,
}

/// Deepest module nesting followed in the configuration.
pub(super) const MAX_MODULE_DEPTH: usize = 64;

pub(super) fn walk_config<'p, 'a>(
    m: &'p ConfigModule<'a>,
    stack: &mut Vec<Frame<'p, 'a>>,
    zones: &mut Zones,
    deps: &mut HashMap<String, Vec<String>>,
) {
    let Some(level) = stack.len().checked_sub(1) else {
        return;
    };
    if level > MAX_MODULE_DEPTH {
        return;
    }
    let prefix = stack[level].prefix.clone();
    for r in &m.resources {
        let rtype = r.rtype.as_ref();
        {
            let mut list = Vec::new();
            for d in &r.depends_on {
                push_dependency(&prefix, d, &mut list);
            }
            if let Some(e) = &r.expressions {
                collect_references(e, &prefix, &mut list, 0);
            }
            list.sort();
            list.dedup();
            if !list.is_empty() {
                deps.insert(format!("{prefix}{}", r.address), list);
            }
        }
        if record_resource(rtype).is_none() {
            continue;
        }
        let Some(e) = r.expressions.as_ref().and_then(|e| e.get("zone_id")) else {
            continue;
        };
        if let Some(z) = resolve_ref(e, stack, level, zones) {
            zones.by_config.insert(format!("{prefix}{}", r.address), z);
        }
    }
    for (name, call) in &m.module_calls {
        if let Some(child) = &call.module {
            stack.push(Frame {
                prefix: format!("{prefix}module.{name}."),
                call: call.expressions.as_ref(),
            });
            walk_config(child, stack, zones, deps);
            stack.pop();
        }
    }
}

/// The resource or module a `depends_on` entry or an expression reference names
/// (`aws_s3_object.policy.etag` -> `aws_s3_object.policy`, `module.cdn.id` ->
/// `module.cdn`), prefixed with the module's address; variables, locals and the
/// like are not followed.
pub(super) fn push_dependency(prefix: &str, reference: &str, out: &mut Vec<String>) {
    let r = strip_indexes(reference);
    let parts: Vec<&str> = r.split('.').collect();
    let n = match parts.first().copied() {
        Some("var" | "local" | "each" | "count" | "path" | "self" | "terraform") | None => return,
        Some("data") => 3,
        _ => 2,
    };
    if let Some(head) = parts.get(..n) {
        if out.len() < MAX_DEPENDENCIES {
            out.push(format!("{prefix}{}", head.join(".")));
        }
    }
}

/// Most dependencies kept per resource.
pub(super) const MAX_DEPENDENCIES: usize = 256;

/// Every `references` list inside a resource's `expressions` (nested blocks too).
pub(super) fn collect_references(f: &Field<'_>, prefix: &str, out: &mut Vec<String>, depth: usize) {
    if depth > MAX_MODULE_DEPTH {
        return;
    }
    match f {
        Field::Map(entries) => {
            for (k, v) in entries {
                if k == "references" {
                    for r in v.list().iter().filter_map(Field::str) {
                        push_dependency(prefix, r, out);
                    }
                } else {
                    collect_references(v, prefix, out, depth + 1);
                }
            }
        }
        Field::List(items) => {
            for v in items {
                collect_references(v, prefix, out, depth + 1);
            }
        }
        _ => {}
    }
}

/// The zone name an expression's `references` lead to: a zone resource or data
/// source in the same module, or a module variable set by the calling module.
pub(super) fn resolve_ref(
    expr: &Field<'_>,
    stack: &[Frame<'_, '_>],
    level: usize,
    zones: &Zones,
) -> Option<String> {
    let refs = expr.get("references")?.list();
    for r in refs.iter().filter_map(Field::str) {
        if let Some(var) = r.strip_prefix("var.") {
            let name = var.split(['.', '[']).next().unwrap_or_default();
            let up = level.checked_sub(1);
            let e = stack.get(level).and_then(|f| f.call).and_then(|c| c.get(name));
            if let (Some(up), Some(e)) = (up, e) {
                if let Some(z) = resolve_ref(e, stack, up, zones) {
                    return Some(z);
                }
            }
            continue;
        }
        let r = strip_indexes(r);
        let parts: Vec<&str> = r.split('.').collect();
        let n = if parts.first() == Some(&"data") { 3 } else { 2 };
        let (Some(head), Some(frame)) = (parts.get(..n), stack.get(level)) else {
            continue;
        };
        let key = format!("{}{}", frame.prefix, head.join("."));
        if let Some(Some(z)) = zones.by_address.get(&key) {
            return Some(z.clone());
        }
    }
    None
}
