//! Policy files in a plan: the object resources whose key, name or path ends in
//! `.well-known/mta-sts.txt`, their body (plain or base64) and the domain their
//! bucket or path names.

use super::build::{Item, Notes};
use super::json::{s, unk, Attrs};
use super::{NoteKind, PlannedPolicy, POLICY_SUFFIX};

/// The resource types that can hold a policy file.
pub(super) const POLICY_TYPES: &[&str] = &[
    "aws_s3_object",
    "aws_s3_bucket_object",
    "google_storage_bucket_object",
    "azurerm_storage_blob",
    "local_file",
];

/// The policy file an object resource holds, when its key, name or path ends
/// in `.well-known/mta-sts.txt`.
pub(super) fn policy(item: &Item<'_, '_>, notes: &mut Notes) -> Option<PlannedPolicy> {
    let (address, rtype, action) = (item.address, item.rtype, item.action);
    let (after, before, unknown) = (item.after, item.before, item.unknown);
    let main = after.or(before)?;
    let location = policy_location(rtype, main)?;
    let normalized = location.replace('\\', "/");
    if !normalized.trim_end().ends_with(POLICY_SUFFIX) {
        return None;
    }
    let body = after.and_then(|a| policy_body(address, rtype, a, notes));
    let u = unknown.unwrap_or(&Attrs::default()).unknown_body();
    if after.is_some() && body.is_none() {
        if u {
            notes.push(
                NoteKind::AfterApply,
                address,
                format!("{address}: the policy body is known only after apply"),
            );
        } else if s(&main.source).is_some() {
            notes.push(
                NoteKind::NotInPlan,
                address,
                format!(
                    "{address}: the policy body is read from a file ({:?}) that the plan does not contain",
                    s(&main.source).unwrap_or_default()
                ),
            );
        } else {
            notes.push(
                NoteKind::NotInPlan,
                address,
                format!("{address}: the policy body is not in the plan"),
            );
        }
    }
    let before_body = before.and_then(|b| policy_body(address, rtype, b, &mut Notes(Vec::new(), 0)));
    let dir = normalized
        .trim_end()
        .strip_suffix(POLICY_SUFFIX)
        .unwrap_or_default();
    let domain = dir.split('/').find_map(|c| {
        let c = crate::names::normalize(c);
        c.strip_prefix("mta-sts.")
            .filter(|d| d.contains('.'))
            .map(str::to_owned)
    });
    Some(PlannedPolicy {
        address: address.to_owned(),
        resource_type: rtype.to_owned(),
        bucket_or_path: location,
        domain,
        body,
        before: before_body,
        action,
    })
}

impl Attrs<'_> {
    fn unknown_body(&self) -> bool {
        unk(&self.content)
            || unk(&self.content_base64)
            || unk(&self.source_content)
            || unk(&self.sensitive_content)
    }
}

/// Whether one side of an object resource holds a policy file (the test
/// [`policy`] applies to the side it reads).
pub(super) fn holds_policy(rtype: &str, a: &Attrs<'_>) -> bool {
    policy_location(rtype, a).is_some_and(|l| l.replace('\\', "/").trim_end().ends_with(POLICY_SUFFIX))
}

fn policy_location(rtype: &str, a: &Attrs<'_>) -> Option<String> {
    let key = |k: &str| k.trim_start_matches('/').to_owned();
    Some(match rtype {
        "aws_s3_object" | "aws_s3_bucket_object" => {
            format!("{}/{}", s(&a.bucket).unwrap_or_default(), key(s(&a.key)?))
        }
        "google_storage_bucket_object" => {
            format!("{}/{}", s(&a.bucket).unwrap_or_default(), key(s(&a.name)?))
        }
        "azurerm_storage_blob" => format!(
            "{}/{}/{}",
            s(&a.storage_account_name).unwrap_or_default(),
            s(&a.storage_container_name).unwrap_or_default(),
            key(s(&a.name)?)
        ),
        "local_file" => s(&a.filename)?.to_owned(),
        _ => return None,
    })
}

fn policy_body(address: &str, rtype: &str, a: &Attrs<'_>, notes: &mut Notes) -> Option<Vec<u8>> {
    let text = match rtype {
        "azurerm_storage_blob" => s(&a.source_content),
        "local_file" => s(&a.content).or(s(&a.sensitive_content)),
        _ => s(&a.content),
    };
    if let Some(t) = text {
        return Some(t.as_bytes().to_vec());
    }
    let b64 = s(&a.content_base64)?;
    let decoded = base64_decode(b64);
    if decoded.is_none() {
        notes.push(
            NoteKind::Lenient,
            address,
            format!("{address}: content_base64 is not valid base64"),
        );
    }
    decoded
}

/// Standard base64 (RFC 4648 §4), padding optional, blanks ignored.
pub(super) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 3);
    let mut acc = 0u32;
    let mut bits = 0;
    let mut pad = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                pad += 1;
                continue;
            }
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        if pad > 0 {
            return None;
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits must be zero and fewer than 6 (a lone trailing character is invalid).
    if bits >= 6 || acc != 0 || pad > 2 {
        return None;
    }
    Some(out)
}
