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
}
