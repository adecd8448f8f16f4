//! The library's messages name its options (``option `lenient` ``); the command line names its flags.

/// Library option phrases and the flags that set them, longest phrase first where one contains another.
const FLAGS: &[(&str, &str)] = &[
    (
        "option `array` = ArrayMode::Select(n), or read each (ArrayMode::Each)",
        "+as N, or use +ar / --split",
    ),
    ("option `numbers` = NumberPolicy::Number", "--is-ds-num"),
    ("option `transfer_syntax`", "+t…"),
    ("option `charset_utf8`", "--charset-utf8"),
    ("option `max_string`", "--max-string"),
    ("option `lenient`", "--lenient"),
];

/// `message` with each library option phrase replaced by the command-line flag.
pub fn cli(message: &str) -> String {
    let mut spelled = message.to_string();
    for (option, flag) in FLAGS {
        if spelled.contains(option) {
            spelled = spelled.replace(option, flag);
        }
    }
    spelled
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_flags_instead_of_options() {
        assert_eq!(
            cli("trailing comma (accepted with option `lenient`)"),
            "trailing comma (accepted with --lenient)"
        );
        assert_eq!(cli("raise option `max_string`"), "raise --max-string");
        assert_eq!(cli("no option here"), "no option here");
    }
}
