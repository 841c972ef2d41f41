use super::*;

#[test]
fn resolved_paths_are_one_spelling_per_file() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path().canonicalize().unwrap();
    std::fs::create_dir(root.join("logs")).unwrap();
    let same = [
        root.join("a.ndjson"),
        root.join("./a.ndjson"),
        root.join("logs/../a.ndjson"),
        root.join("logs/./../a.ndjson"),
        root.join("missing/../a.ndjson"),
    ];
    for path in &same {
        assert_eq!(
            resolve_path(path),
            root.join("a.ndjson"),
            "{}",
            path.display()
        );
    }
    assert_eq!(
        resolve_path(&root.join("not/yet/./there")),
        root.join("not/yet/there")
    );
    assert!(resolve_path(Path::new("relative.ndjson")).is_absolute());
}

#[test]
fn toml_errors_lose_their_excerpt() {
    let error = "TOML parse error at line 3, column 12\n  |\n3 | password = 3141x\n  |            ^\ninvalid number\n";
    let shown = without_excerpt(error);
    assert!(!shown.contains("3141"), "{shown}");
    assert!(
        shown.contains("line 3, column 12") && shown.contains("invalid number"),
        "{shown}"
    );
    assert_eq!(without_excerpt("unknown field `x`"), "unknown field `x`");
}

#[test]
fn secrets_take_any_scalar_as_text_and_refuse_lists_without_echo() {
    let parse = |text: &str| -> Result<Secret, String> {
        #[derive(Deserialize)]
        struct Holder {
            secret: Secret,
        }
        toml::from_str::<Holder>(text)
            .map(|holder| holder.secret)
            .map_err(|error| error.message().to_owned())
    };
    assert_eq!(parse("secret = 31415926").unwrap().expose(), "31415926");
    assert_eq!(parse("secret = true").unwrap().expose(), "true");
    assert_eq!(parse("secret = 2.5").unwrap().expose(), "2.5");
    assert_eq!(parse("secret = \"0042\"").unwrap().expose(), "0042");
    let refused = parse("secret = [27182818]").unwrap_err();
    assert!(!refused.contains("27182818"), "{refused}");
}

#[test]
fn a_secret_file_is_read_once_at_load_and_a_file_never_read_is_an_error() {
    let inline = Secret::new(String::from("inline"));
    let read = Secret::new(String::from("from the file"));
    let file = Some(Path::new("/run/credentials/pw"));
    assert_eq!(
        secret_in_use(&inline, None, None, "x_file")
            .unwrap()
            .expose(),
        "inline"
    );
    assert_eq!(
        secret_in_use(&inline, file, Some(&read), "x_file")
            .unwrap()
            .expose(),
        "from the file"
    );
    let error = secret_in_use(&inline, file, None, "x_file").unwrap_err();
    assert!(
        error.contains("x_file") && !error.contains("inline"),
        "{error}"
    );
}

#[test]
fn an_empty_secret_file_is_an_error_never_an_empty_secret() {
    let directory = tempfile::tempdir().unwrap();
    for (text, expected) in [("", None), ("\nsecond line\n", None), ("pw\n", Some("pw"))] {
        let path = directory.path().join("secret");
        std::fs::write(&path, text).unwrap();
        match (read_secret_file("s.token_file", &path), expected) {
            (Ok(secret), Some(expected)) => assert_eq!(secret.expose(), expected),
            (Err(error), None) => {
                assert_eq!(error.key, "s.token_file");
                assert!(error.message.contains("is empty"), "{error}");
            }
            (other, _) => panic!("{text:?}: {other:?}"),
        }
    }
}
