//! Entries reach the registry even from modules nothing references.

mod nobody_uses_this {
    use privacy_runtime::{PrivacyError, privacy_scope};

    #[allow(dead_code)]
    #[privacy_scope("id_number", api = "neverCalled")]
    fn never_called(#[subject] user: &str) -> Result<(), PrivacyError> {
        let _ = user;
        Ok(())
    }

    #[allow(dead_code)]
    struct Holder;

    impl Holder {
        #[allow(dead_code)]
        #[privacy_scope("order_info", api = "Holder.neverCalledMethod")]
        async fn never_called_method(&self, #[subject] user: u64) -> Result<(), PrivacyError> {
            let _ = user;
            Ok(())
        }

        #[allow(dead_code)]
        #[privacy_scope("order_info", api = "Holder.neverCalledGeneric")]
        fn never_called_generic<T: Default>(#[subject] user: u64) -> Result<T, PrivacyError> {
            let _ = user;
            Ok(T::default())
        }
    }
}

#[test]
fn unreferenced_entries_are_registered() {
    let apis = privacy_runtime::apis();
    let names: Vec<_> = apis.iter().map(|s| s.api()).collect();
    for expected in ["neverCalled", "Holder.neverCalledMethod", "Holder.neverCalledGeneric"] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    let site = apis.iter().find(|s| s.api() == "neverCalled").unwrap();
    assert_eq!(site.module_path(), "registry::nobody_uses_this");
    assert_eq!(site.line(), 7);
}

// A library crate is linked once it is named; its modules that nothing calls still register.
use privacy_tests as _;

#[test]
fn unreferenced_library_entries_are_registered() {
    let names: Vec<_> = privacy_runtime::apis().iter().map(|s| s.api()).collect();
    assert!(names.contains(&"library.neverCalled"), "{names:?}");
}
