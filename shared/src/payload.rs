//! Report payloads: gzip, zip or plain JSON, decoded under size caps.
//!
//! The payload's own bytes decide how it is decoded (gzip and zip magic numbers),
//! not the media type or file name a sender attached: those only produce warnings
//! when they disagree. Every decompression reads through [`Read::take`] with the
//! cap plus one byte, so a gzip or zip bomb is refused after reading at most the
//! cap.

use std::io::{Cursor, Read};

use serde::{Deserialize, Serialize};

use crate::Limits;

/// How a payload was packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compression {
    /// Plain JSON.
    None,
    /// gzip (RFC 1952), possibly several members.
    Gzip,
    /// A zip archive member.
    Zip,
    /// A gzip file inside a zip archive.
    #[serde(rename = "zip+gzip")]
    ZipGzip,
}

impl Compression {
    /// Words for messages: "uncompressed JSON", "gzip", "zip", "gzip inside zip".
    pub fn describe(self) -> &'static str {
        match self {
            Compression::None => "uncompressed JSON",
            Compression::Gzip => "gzip",
            Compression::Zip => "zip",
            Compression::ZipGzip => "gzip inside zip",
        }
    }

    /// The name used in the normalized `source.compression`.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zip => "zip",
            Compression::ZipGzip => "zip+gzip",
        }
    }
}

/// One decoded report payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The report JSON bytes.
    pub json: Vec<u8>,
    /// How they were packed.
    pub compression: Compression,
    /// The zip member name, for payloads taken from a zip archive.
    pub member: Option<String>,
}

/// Why a payload could not be decoded.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum PayloadError {
    /// Corrupt or truncated gzip data.
    #[error("bad gzip data: {0}")]
    BadGzip(String),
    /// Corrupt, encrypted or unsupported zip data.
    #[error("bad zip archive: {0}")]
    BadZip(String),
    /// A size or count cap was exceeded.
    #[error("{what} exceeds the cap of {cap}")]
    TooLarge {
        /// What was too large.
        what: String,
        /// The cap.
        cap: usize,
    },
}

/// gzip magic number.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// zip local file header signature.
pub const ZIP_MAGIC: [u8; 4] = *b"PK\x03\x04";

/// What a payload's first bytes say it is.
pub fn sniff(bytes: &[u8]) -> Compression {
    if bytes.starts_with(&GZIP_MAGIC) {
        Compression::Gzip
    } else if bytes.starts_with(&ZIP_MAGIC) || bytes.starts_with(b"PK\x05\x06") {
        Compression::Zip
    } else {
        Compression::None
    }
}

/// Whether the bytes look like a JSON object (after optional whitespace and BOM).
pub fn looks_like_json(bytes: &[u8]) -> bool {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    b.iter()
        .find(|c| !c.is_ascii_whitespace())
        .is_some_and(|c| *c == b'{')
}

/// Decodes a payload into one or more report JSON documents.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Vec<Decoded>, PayloadError> {
    match sniff(bytes) {
        Compression::Gzip => Ok(vec![Decoded {
            json: gunzip(bytes, limits.max_report_bytes)?,
            compression: Compression::Gzip,
            member: None,
        }]),
        Compression::Zip => unzip(bytes, limits),
        _ => {
            if bytes.len() > limits.max_report_bytes {
                return Err(PayloadError::TooLarge {
                    what: format!("the report ({} bytes)", bytes.len()),
                    cap: limits.max_report_bytes,
                });
            }
            Ok(vec![Decoded {
                json: bytes.to_vec(),
                compression: Compression::None,
                member: None,
            }])
        }
    }
}

/// Decompresses gzip data (all members) up to `cap` bytes of output.
pub fn gunzip(bytes: &[u8], cap: usize) -> Result<Vec<u8>, PayloadError> {
    // The trailer's ISIZE (uncompressed size mod 2^32 of the last member) is a
    // good size hint for the usual single-member report; it is attacker data, so
    // it is only a hint, and capped.
    let hint = bytes
        .len()
        .checked_sub(4)
        .and_then(|at| bytes.get(at..))
        .and_then(|t| <[u8; 4]>::try_from(t).ok())
        .map_or(0, |t| u32::from_le_bytes(t) as usize);
    let mut out = Vec::with_capacity(hint.max(bytes.len().saturating_mul(4)).min(cap) + 64);
    flate2::read::MultiGzDecoder::new(bytes)
        .take(cap as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| PayloadError::BadGzip(e.to_string()))?;
    if out.len() > cap {
        return Err(PayloadError::TooLarge {
            what: "the decompressed report".into(),
            cap,
        });
    }
    Ok(out)
}

fn unzip(bytes: &[u8], limits: &Limits) -> Result<Vec<Decoded>, PayloadError> {
    let bad = |e: zip::result::ZipError| PayloadError::BadZip(e.to_string());
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(bad)?;
    if archive.len() > limits.max_zip_members {
        return Err(PayloadError::TooLarge {
            what: format!("the zip archive's {} members", archive.len()),
            cap: limits.max_zip_members,
        });
    }
    let names: Vec<String> = archive
        .file_names_raw()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    let is_report_name = |n: &str| {
        let n = n.to_ascii_lowercase();
        n.ends_with(".json") || n.ends_with(".gz")
    };
    let any_report_names = names.iter().any(|n| is_report_name(n));
    let mut out = Vec::new();
    let mut total = 0usize;
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).map_err(bad)?;
        let name = String::from_utf8_lossy(file.name_raw()).into_owned();
        if file.is_dir() || (any_report_names && !is_report_name(&name)) {
            continue;
        }
        let cap = limits.max_report_bytes;
        let mut data = Vec::with_capacity((file.size() as usize).min(cap).min(1 << 20));
        (&mut file)
            .take(cap as u64 + 1)
            .read_to_end(&mut data)
            .map_err(|e| PayloadError::BadZip(format!("member {name:?}: {e}")))?;
        if data.len() > cap {
            return Err(PayloadError::TooLarge {
                what: format!("zip member {name:?} decompressed"),
                cap,
            });
        }
        let (json, compression) = if data.starts_with(&GZIP_MAGIC) {
            (gunzip(&data, cap)?, Compression::ZipGzip)
        } else {
            (data, Compression::Zip)
        };
        total += json.len();
        if total > limits.max_mail_bytes {
            return Err(PayloadError::TooLarge {
                what: "the zip archive's decompressed members".into(),
                cap: limits.max_mail_bytes,
            });
        }
        out.push(Decoded {
            json,
            compression,
            member: Some(name),
        });
    }
    if out.is_empty() {
        return Err(PayloadError::BadZip("the archive holds no files".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn concatenated_gzip_members_are_all_read() {
        let mut two = gz(b"{\"a\":");
        two.extend(gz(b"1}"));
        let d = decode(&two, &Limits::default()).unwrap();
        assert_eq!(d[0].json, b"{\"a\":1}");
        assert_eq!(d[0].compression, Compression::Gzip);
    }

    #[test]
    fn gzip_output_is_capped() {
        let data = gz(&[b' '; 1000]);
        assert!(gunzip(&data, 1000).is_ok());
        assert!(matches!(gunzip(&data, 999), Err(PayloadError::TooLarge { .. })));
    }

    #[test]
    fn truncated_gzip_is_bad_gzip() {
        let data = gz(br#"{"policies":[]}"#);
        let err = decode(&data[..data.len() - 6], &Limits::default()).unwrap_err();
        assert!(matches!(err, PayloadError::BadGzip(_)), "{err:?}");
    }

    #[test]
    fn plain_json_over_the_cap_is_too_large() {
        let limits = Limits {
            max_report_bytes: 10,
            ..Limits::default()
        };
        assert!(matches!(
            decode(b"{\"x\": 12345678}", &limits),
            Err(PayloadError::TooLarge { .. })
        ));
    }
}
