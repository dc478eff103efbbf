//! Values of the Lambda functions' environment variables, read the same way by
//! both functions, and the error both report. Pure: the functions pass the
//! text in.

/// A missing or malformed configuration variable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A required variable is not set.
    #[error("environment variable {0} must be set")]
    Missing(&'static str),
    /// A variable has a value that cannot be used.
    #[error("environment variable {name}={value:?}: {why}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        why: String,
    },
}

/// A key prefix: surrounding blanks and slashes dropped, one `/` added unless
/// empty (`" /incoming/ "` -> `incoming/`, `"/"` -> ``).
pub fn prefix(v: &str) -> String {
    let t = v.trim().trim_matches('/');
    if t.is_empty() {
        String::new()
    } else {
        format!("{t}/")
    }
}

/// A switch: `1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off` (blanks around
/// ignored); unset or empty gives `default`; anything else is `None`.
pub fn flag(v: Option<&str>, default: bool) -> Option<bool> {
    match v.map(str::trim) {
        None | Some("") => Some(default),
        Some("1" | "true" | "yes" | "on") => Some(true),
        Some("0" | "false" | "no" | "off") => Some(false),
        Some(_) => None,
    }
}

/// [`flag`] for variable `name`, with a [`ConfigError`] naming it when the
/// value is not a switch.
pub fn switch(name: &'static str, v: Option<&str>, default: bool) -> Result<bool, ConfigError> {
    flag(v, default).ok_or_else(|| ConfigError::Invalid {
        name,
        value: v.unwrap_or_default().trim().to_owned(),
        why: "expected true or false".into(),
    })
}

/// `STSGUARD_BUCKET`: a bucket name (blanks around dropped), required, not a
/// URL or a path.
pub fn bucket(v: Option<String>) -> Result<String, ConfigError> {
    let bucket = v
        .map(|b| b.trim().to_owned())
        .filter(|b| !b.is_empty())
        .ok_or(ConfigError::Missing("STSGUARD_BUCKET"))?;
    if bucket.contains('/') || bucket.starts_with("s3:") {
        return Err(ConfigError::Invalid {
            name: "STSGUARD_BUCKET",
            value: bucket,
            why: "expected a bucket name, not a URL or path".into(),
        });
    }
    Ok(bucket)
}

/// `STSGUARD_S3_PATH_STYLE` as a switch; unset, on when `AWS_ENDPOINT_URL` is
/// set (S3-compatible endpoints usually want path-style addressing).
pub fn path_style(get: impl Fn(&str) -> Option<String>) -> Result<bool, ConfigError> {
    match get("STSGUARD_S3_PATH_STYLE") {
        Some(v) => switch("STSGUARD_S3_PATH_STYLE", Some(&v), false),
        None => Ok(get("AWS_ENDPOINT_URL").is_some_and(|v| !v.is_empty())),
    }
}

/// A positive byte count for variable `name` (blanks around ignored); unset
/// gives `default`.
pub fn bytes(name: &'static str, v: Option<String>, default: usize) -> Result<usize, ConfigError> {
    match v {
        None => Ok(default),
        Some(s) => s
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or(ConfigError::Invalid {
                name,
                value: s,
                why: "expected a positive number of bytes".into(),
            }),
    }
}

/// A comma-separated list of domain names for variable `name`, normalized
/// (lower case, no trailing dot); unset or empty gives `None`.
pub fn domains(name: &'static str, v: Option<String>) -> Result<Option<Vec<String>>, ConfigError> {
    let Some(list) = v else { return Ok(None) };
    let domains: Vec<String> = list
        .split(',')
        .map(crate::names::normalize)
        .filter(|d| !d.is_empty())
        .collect();
    if domains
        .iter()
        .any(|d| !crate::names::is_valid(d.as_bytes(), crate::names::Labels::Underscore))
    {
        return Err(ConfigError::Invalid {
            name,
            value: list,
            why: "expected comma-separated domain names".into(),
        });
    }
    Ok((!domains.is_empty()).then_some(domains))
}

/// An SNS topic ARN for variable `name` (`arn:PARTITION:sns:REGION:ACCOUNT:NAME`);
/// unset or empty gives `None`.
pub fn topic_arn(name: &'static str, v: Option<String>) -> Result<Option<String>, ConfigError> {
    let Some(arn) = v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != "sns" || parts[5].is_empty() {
        return Err(ConfigError::Invalid {
            name,
            value: arn,
            why: "expected an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)".into(),
        });
    }
    Ok(Some(arn))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_flags() {
        assert_eq!(prefix(" /incoming/ "), "incoming/");
        assert_eq!(prefix("a/b"), "a/b/");
        assert_eq!(prefix("/"), "");
        assert_eq!(flag(None, true), Some(true));
        assert_eq!(flag(Some(" "), false), Some(false));
        assert_eq!(flag(Some("on"), false), Some(true));
        assert_eq!(flag(Some("0"), true), Some(false));
        assert_eq!(flag(Some("maybe"), true), None);
        assert_eq!(
            switch("X", Some(" maybe "), true),
            Err(ConfigError::Invalid {
                name: "X",
                value: "maybe".into(),
                why: "expected true or false".into()
            })
        );
    }

    #[test]
    fn byte_counts_and_domain_lists() {
        assert_eq!(bytes("B", None, 7), Ok(7));
        assert_eq!(bytes("B", Some(" 1024 ".into()), 7), Ok(1024));
        assert!(matches!(
            bytes("B", Some("0".into()), 7),
            Err(ConfigError::Invalid { name: "B", .. })
        ));
        assert!(bytes("B", Some("10MB".into()), 7).is_err());
        assert_eq!(domains("D", None), Ok(None));
        assert_eq!(domains("D", Some(" , ".into())), Ok(None));
        assert_eq!(
            domains("D", Some("Example.COM., b.example".into())),
            Ok(Some(vec!["example.com".into(), "b.example".into()]))
        );
        assert!(domains("D", Some("a.example,not a domain".into())).is_err());
        assert_eq!(topic_arn("T", Some(" ".into())), Ok(None));
        assert_eq!(
            topic_arn(
                "T",
                Some("arn:aws:sns:eu-west-1:123456789012:stsguard-alerts".into())
            ),
            Ok(Some("arn:aws:sns:eu-west-1:123456789012:stsguard-alerts".into()))
        );
        assert!(topic_arn("T", Some("arn:aws:sqs:eu-west-1:123456789012:q".into())).is_err());
        assert!(topic_arn("T", Some("stsguard-alerts".into())).is_err());
    }
}
