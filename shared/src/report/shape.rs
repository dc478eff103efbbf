//! A single pass over JSON bytes that bounds nesting depth and array length
//! before anything is allocated for them.
//!
//! `serde_json` has its own recursion limit (128), but a 20 MB report made of one
//! array of a million small objects would still allocate far more than its size.
//! This scan refuses such input up front, in linear time and constant memory. It
//! does not validate JSON: the parser does that afterwards.

/// The shape of the JSON exceeds a cap.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ShapeError {
    /// Nested deeper than the cap.
    #[error("nested deeper than {0} levels")]
    TooDeep(usize),
    /// An array with more items than the cap.
    #[error("an array has more than {0} items")]
    TooManyItems(usize),
}

/// Checks that `json` nests at most `max_depth` levels and that no array holds
/// more than `max_items` items.
pub fn check_shape(json: &[u8], max_depth: usize, max_items: usize) -> Result<(), ShapeError> {
    // One entry per open container: the number of commas seen in it when it is an
    // array, or u64::MAX for an object.
    const OBJECT: u64 = u64::MAX;
    let mut stack: Vec<u64> = Vec::with_capacity(16);
    let mut i = 0;
    while i < json.len() {
        let b = json[i];
        i += 1;
        match b {
            b'"' => {
                // Skip the string: jump to the next quote or backslash.
                loop {
                    match memchr::memchr2(b'"', b'\\', &json[i.min(json.len())..]) {
                        None => return Ok(()),
                        Some(at) if json[i + at] == b'"' => {
                            i += at + 1;
                            break;
                        }
                        // A backslash escapes the next byte.
                        Some(at) => i += at + 2,
                    }
                }
            }
            b'[' | b'{' => {
                if stack.len() >= max_depth {
                    return Err(ShapeError::TooDeep(max_depth));
                }
                stack.push(if b == b'[' { 0 } else { OBJECT });
            }
            b']' | b'}' => {
                stack.pop();
            }
            b',' => {
                if let Some(top) = stack.last_mut() {
                    if *top != OBJECT {
                        *top += 1;
                        // n commas separate n + 1 items.
                        if *top >= max_items as u64 {
                            return Err(ShapeError::TooManyItems(max_items));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_and_items_are_bounded() {
        assert_eq!(check_shape(br#"{"a":[[1]]}"#, 3, 10), Ok(()));
        assert_eq!(check_shape(br#"{"a":[[1]]}"#, 2, 10), Err(ShapeError::TooDeep(2)));
        assert_eq!(check_shape(b"[1,2,3]", 4, 3), Ok(()));
        assert_eq!(check_shape(b"[1,2,3,4]", 4, 3), Err(ShapeError::TooManyItems(3)));
        // Brackets and commas inside strings do not count, escaped quotes included.
        assert_eq!(check_shape(br#"["[[[,,,,\"[[["]"#, 1, 2), Ok(()));
        // Commas between object members are not array items.
        assert_eq!(check_shape(br#"{"a":1,"b":2,"c":3}"#, 1, 1), Ok(()));
    }
}
