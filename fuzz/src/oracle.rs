//! What every `privacy.toml` must satisfy: the compile-time check never panics, and whatever it
//! accepts the runtime accepts too and builds the same way, through the builder (what
//! `Guidelines::from_toml` does at run time) and from constants (what `guidelines!()` emits).

use privacy_runtime::__private::Compiled;
use privacy_runtime::{Guidelines, Timestamp};
use privacy_spec::GuidelinesFile;

/// Checks one input; panics (a fuzzing finding) when a promise is broken.
pub fn check(text: &str) {
    let file = match GuidelinesFile::parse(text) {
        Ok(f) => f,
        Err(e) => {
            let lines = text.split('\n').count();
            assert!(e.line >= 1 && e.line <= lines, "error line {} outside the {lines} lines: {e}", e.line);
            assert!(e.column >= 1, "error column 0: {e}");
            assert!(!e.message.is_empty(), "an error without a message");
            return;
        }
    };
    let built = match Guidelines::from_file(&file) {
        Ok(g) => g,
        Err(e) => panic!("accepted while compiling, refused at run time: {e}\n---\n{text}"),
    };

    let buttons: Vec<&str> = file.agree_buttons.iter().map(String::as_str).collect();
    let custom: Vec<[&str; 4]> = file
        .custom_scopes
        .iter()
        .map(|c| [c.id.as_str(), c.name_zh.as_str(), c.name_en.as_str(), c.description.as_str()])
        .collect();
    let scopes: Vec<Vec<(&str, &str)>> =
        file.versions.iter().map(|v| v.scopes.iter().map(|(s, p)| (s.as_str(), p.as_str())).collect()).collect();
    let versions: Vec<privacy_runtime::__private::CompiledVersion<'_>> = file
        .versions
        .iter()
        .zip(&scopes)
        .map(|(v, s)| (v.published_at_millis, v.fresh_consent, s.as_slice()))
        .collect();
    let (contract_url, contract_text) = match &file.contract {
        Some(privacy_spec::file::FileContract::Url(u)) => (Some(u.as_str()), None),
        Some(privacy_spec::file::FileContract::Text(t)) => (None, Some(t.as_str())),
        None => (None, None),
    };
    let compiled = Guidelines::__from_compiled(&Compiled {
        contract_name: &file.contract_name,
        contract_url,
        contract_text,
        agree_buttons: &buttons,
        effect_delay_seconds: file.effect_delay_seconds,
        banned: file.banned,
        custom_scopes: &custom,
        versions: &versions,
    });

    assert_eq!(built.versions(), compiled.versions(), "the two builds disagree\n---\n{text}");
    assert_eq!(built.contract_name(), compiled.contract_name());
    assert_eq!(built.contract(), compiled.contract());
    assert_eq!(built.effect_delay(), compiled.effect_delay());
    assert_eq!(built.custom_scopes(), compiled.custom_scopes());
    assert_eq!(built.agree_buttons(), compiled.agree_buttons());
    assert_eq!(built.is_banned(), compiled.is_banned());

    // The compile-time check and the runtime agree on what the newest version declares.
    for id in file.known_ids() {
        let at_run_time = built.scope(id).is_ok_and(|s| built.latest_declared().contains(s));
        assert_eq!(file.newest_declares(id), at_run_time, "`{id}`\n---\n{text}");
    }
    // Every time involved is a calendar time that reads back as itself: nothing wrapped.
    for v in built.versions() {
        let effective = v.published_at.plus(built.effect_delay());
        for t in [v.published_at, effective] {
            assert_eq!(Timestamp::parse(&t.to_string()), Ok(t), "{t:?}\n---\n{text}");
        }
        assert!(effective >= v.published_at);
    }
}
