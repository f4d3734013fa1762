#![doc = include_str!("../README.md")]

mod args;
mod config;
mod expand;

use proc_macro::TokenStream;

/// Guards a function that touches personal data: before its body runs, the user's consent to
/// the named privacy scopes is checked, and a call without it is refused with the platform's
/// error.
///
/// Use it through `privacy-runtime`, which re-exports it as `privacy_runtime::privacy_scope`: the
/// expansion calls into `privacy_runtime`.
///
/// ```
/// use privacy_runtime::{Gate, Guidelines, PrivacyError, Timestamp, privacy_scope, with_gate};
///
/// /// `wx.chooseLocation`: the place the user picks on a map.
/// #[privacy_scope("chosen_location", api = "chooseLocation")]
/// fn choose_location(#[subject] openid: &str) -> Result<(f64, f64), PrivacyError> {
///     Ok((39.98, 116.31))
/// }
///
/// let guidelines = Guidelines::builder("《示例小程序隐私保护指引》")
///     .version(Timestamp::utc(2023, 7, 11, 0, 0, 0), ["chosen_location"])
///     .agree_button("agree-btn")
///     .build()?;
/// let gate = Gate::builder("wx-demo", guidelines).build();
///
/// with_gate(&gate, || {
///     // No consent yet: the body does not run. The call opens an authorization (a listener
///     // would get the event) and, being sync, returns at once with its ticket.
///     let refused = choose_location("openid-1").unwrap_err();
///     assert!(refused.ticket().is_some(), "{refused}");
///
///     // The user taps <button id="agree-btn" open-type="agreePrivacyAuthorization">.
///     gate.tap_agree_button_blocking("openid-1", "agree-btn")?;
///     assert_eq!(choose_location("openid-1")?, (39.98, 116.31));
///     Ok::<(), Box<dyn std::error::Error>>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// The examples on this page build their guidelines with `Guidelines::builder`, so that each
/// shows what it declares; an app usually keeps them in a `privacy.toml` and loads them with
/// [`guidelines!()`](macro@guidelines). (They compile against a `privacy.toml` that declares the
/// scopes they use.)
///
/// # Arguments
///
/// `#[privacy_scope("scope", ..., api = "name", degrade = path, crate = path)]`: one or more
/// scopes and any of the keys, in any order, separated by commas; each key at most once.
///
/// - **Scopes**: string literals, the snake_case ids of the platform's privacy types
///   (`"location"`, `"chosen_location"`, `"phone_number"`, `"werun"`, …; the full list is
///   `privacy_runtime::Scope::builtins()`), or custom scopes that the crate's `privacy.toml`
///   declares. At least one; each at most once. A call needs *all* of them: the user's consent
///   must cover every one, and one authorization asks for them together.
/// - **`api = "name"`**: the API's name as the platform reports it: in the errMsg
///   (`"getLocation:fail …"`), as the need-authorization event's `referrer`, in the consent
///   history and in `privacy_runtime::apis()`. Default: the function's name as written
///   (`choose_location`).
/// - **`degrade = path`**: a fallback that runs instead of the body when the user's consent
///   does not cover the scopes, without asking the user (see [Degrade](#degrade)).
/// - **`crate = path`**: where `privacy-runtime` is, when it is not a dependency named
///   `privacy_runtime` (renamed in `Cargo.toml`, or re-exported by a crate of yours:
///   `crate = ::my_framework::privacy`). The expansion names only paths under
///   `<path>::__private`.
///
/// # The subject: whose consent
///
/// The user is the parameter marked `#[subject]`. Its type implements `privacy_runtime::AsSubject`:
/// `str`, `String`, `Arc<str>`, `Box<str>`, `Cow<str>` (string ids, such as an openid), the
/// integers up to 64 bits and `usize`, `Subject`, `SubjectRef`, and references to any of these;
/// implement `AsSubject` for your own user or session type. The parameter must be bound to a
/// plain name (`#[subject] user: &str`, not a pattern), one per function; the marker is removed
/// from the emitted function.
///
/// Without a `#[subject]` parameter the call uses the *ambient* subject: the one set for this
/// thread with `with_subject(subject, || ..)`, or for a future with `subject_scope(subject, fut)`
/// or `gate.scope(fut).with_subject(subject)` (set while the future is polled, on any executor;
/// request middleware does this once per request). With neither, the call is refused
/// (`PrivacyErrorKind::NoSubject`).
///
/// ```
/// use privacy_runtime::{Gate, Guidelines, PrivacyError, Timestamp, privacy_scope, with_gate, with_subject};
///
/// struct WeRun {
///     steps: u32,
/// }
///
/// impl WeRun {
///     /// `wx.getWeRunData`, for the user of the request being served.
///     #[privacy_scope("werun", api = "getWeRunData")]
///     fn today(&self) -> Result<u32, PrivacyError> {
///         Ok(self.steps)
///     }
/// }
///
/// let guidelines = Guidelines::builder("《示例小程序隐私保护指引》")
///     .version(Timestamp::utc(2023, 7, 13, 0, 0, 0), ["werun"])
///     .agree_button("agree-btn")
///     .build()?;
/// let gate = Gate::builder("wx-demo", guidelines).build();
/// let werun = WeRun { steps: 8_848 };
///
/// with_gate(&gate, || {
///     let no_user = werun.today().unwrap_err();
///     assert!(no_user.to_string().starts_with("getWeRunData:fail privacy subject missing"));
///
///     gate.tap_agree_button_blocking("openid-1", "agree-btn")?;
///     assert_eq!(with_subject("openid-1", || werun.today())?, 8_848);
///     Ok::<(), Box<dyn std::error::Error>>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # The gate: who decides
///
/// Each call asks the *current* gate, found when the call is made:
///
/// 1. the gate set for this scope of code: `with_gate(&gate, || ..)` on this thread, or
///    `gate.scope(fut)` for a future (set while it is polled, on any executor); the innermost
///    wins;
/// 2. else the global gate, installed once at startup with `gate.install_global()`;
/// 3. else none, and the call is refused (`PrivacyErrorKind::NoGate`): it fails closed.
///
/// The gate holds the guidelines in effect, the consent store, the need-authorization listener
/// and the official prompt; the decision it makes for a call (declared? banned? consented?
/// refusal hold? join or open an authorization, wait or return its ticket) is the one described
/// under *What a guarded call does* in the `privacy-runtime` documentation, and the same as
/// `Gate::check(api, scopes, subject)`. A call whose user's consent already covers its scopes is
/// answered from the gate's memory, without a lock or an allocation.
///
/// # Return type and errors
///
/// The function returns `Result<T, E>` with `E: From<PrivacyError>` (`PrivacyError` itself, or
/// your error type; `Result` aliases are fine): a refused call returns
/// `Err(E::from(privacy_error))` without running the body. The signature is otherwise unchanged.
///
/// `PrivacyError` displays as the platform's errMsg, `errno()` gives the platform's errno, and
/// serde serializes it to the client's shape, `{"errMsg": "…", "errno": 112}`:
///
/// | refusal (`PrivacyErrorKind`) | errno | errMsg after `"<api>:fail "` |
/// |---|---|---|
/// | a scope not declared by the guidelines version in effect (a new version takes effect after its effect delay, 5 minutes by default), or a custom scope the gate's guidelines do not know (`NotDeclared`) | 112 | `api scope is not declared in the privacy agreement` |
/// | the app declared "no personal data" at review (`Banned`) | — | `AppID privacy api banned` |
/// | the listener resolved `disagree`, or the user refused the official prompt (`NotAuthorized`) | 104; 103 for the prompt coupled with an authorization pane | `privacy permission is not authorized` |
/// | the user refused the official prompt less than the refusal hold (10 s) ago (`RefusalHold`) | 104 or 103 | `privacy permission is not authorized in gap` |
/// | the authorization expired or the prompt was dismissed unanswered (`Unanswered`) | 104 | `privacy permission is not authorized` |
/// | undecided: `err.ticket()` is the authorization's ticket, which the client resolves before calling again (`Pending`) | — | `privacy authorization pending (ticket …); …` |
/// | the consent store did not answer (`StoreUnavailable`): never let through | — | `privacy consent store unavailable (…); …` |
/// | a sync function needed the store on a current-thread async runtime, where waiting would deadlock (`BlockingInAsync`) | — | names the async form to use |
/// | no randomness for the ticket (`TicketUnavailable`), no subject (`NoSubject`), no gate (`NoGate`) | — | says which, and how to fix it |
///
/// ```
/// use privacy_runtime::{Gate, Guidelines, PrivacyError, Timestamp, privacy_scope, with_gate};
///
/// #[derive(Debug)]
/// enum AppError {
///     Privacy(PrivacyError),
/// }
///
/// impl From<PrivacyError> for AppError {
///     fn from(e: PrivacyError) -> Self {
///         AppError::Privacy(e)
///     }
/// }
///
/// #[privacy_scope("chosen_location", api = "chooseLocation")]
/// fn choose_location(#[subject] openid: &str) -> Result<(f64, f64), AppError> {
///     Ok((39.98, 116.31))
/// }
///
/// let guidelines = Guidelines::builder("《示例小程序隐私保护指引》")
///     .version(Timestamp::utc(2023, 7, 11, 0, 0, 0), ["chosen_location"])
///     .build()?;
/// let gate = Gate::builder("wx-demo", guidelines).build();
/// // The app's own popup, where this user says no at once.
/// gate.on_need_privacy_authorization(|resolver, _event| {
///     resolver.exposure();
///     let _ = resolver.disagree_blocking();
/// });
///
/// let AppError::Privacy(refused) = with_gate(&gate, || choose_location("openid-2")).unwrap_err();
/// assert_eq!(refused.errno(), Some(104));
/// assert_eq!(refused.to_string(), "chooseLocation:fail privacy permission is not authorized");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Degrade
///
/// With `degrade = fallback`, a call whose user has not given the consent it needs runs
/// `fallback` instead of the body, and raises no event, opens no authorization and shows no
/// prompt: the platform's `<input type="nickname">`, which silently becomes a plain text input.
/// The fallback takes the same arguments in the same order (the subject included) and returns
/// the same type; for a method it is an associated function of `Self`, called as
/// `Self::fallback(self, ..)`; for an `async fn` it is an `async fn` too, and is awaited. Every
/// parameter must then be a plain name, so it can be passed on. Refusals that are not about this
/// user's consent still refuse: a scope not declared (112), banned, the store unavailable, no
/// subject, no gate.
///
/// ```
/// use privacy_runtime::{Gate, Guidelines, PrivacyError, Timestamp, privacy_scope, with_gate};
///
/// /// The nickname to greet the user with: their WeChat nickname once they have agreed.
/// #[privacy_scope("user_info", api = "getUserProfile", degrade = typed_nickname)]
/// fn nickname(#[subject] openid: &str, typed: &str) -> Result<String, PrivacyError> {
///     Ok(format!("微信用户 {openid}"))
/// }
///
/// fn typed_nickname(_openid: &str, typed: &str) -> Result<String, PrivacyError> {
///     Ok(typed.to_owned())
/// }
///
/// let guidelines = Guidelines::builder("《示例小程序隐私保护指引》")
///     .version(Timestamp::utc(2023, 7, 11, 0, 0, 0), ["user_info"])
///     .agree_button("agree-btn")
///     .build()?;
/// let gate = Gate::builder("wx-demo", guidelines).build();
/// with_gate(&gate, || {
///     assert_eq!(nickname("openid-1", "小明")?, "小明");
///     assert!(gate.pending_ticket("openid-1").is_none(), "nobody was asked");
///
///     gate.tap_agree_button_blocking("openid-1", "agree-btn")?;
///     assert_eq!(nickname("openid-1", "小明")?, "微信用户 openid-1");
///     Ok::<(), Box<dyn std::error::Error>>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Sync and async
///
/// An `async fn` checks when its future is first polled, before the body's first statement; it
/// waits for the user as the gate's `WaitPolicy` says: `Wait { timeout }` (the default waits for
/// the listener's answer, then the official prompt, never past the authorization's expiry) or
/// `ReturnPending` (returns at once with the ticket, the HTTP pattern). The future is `Send` when
/// the body's is.
///
/// A sync function never blocks its thread waiting for a person: undecided, it returns the
/// pending error with the ticket at once. It may wait for the consent store, except on a
/// current-thread async runtime, where it is refused (`BlockingInAsync`): there, make it an
/// `async fn`. A call whose user is in the gate's memory needs no store and passes anywhere.
///
/// ```
/// use privacy_runtime::{Gate, Guidelines, PrivacyError, Timestamp, WaitPolicy, privacy_scope};
///
/// struct Steps;
///
/// impl Steps {
///     #[privacy_scope("werun", api = "getWeRunData")]
///     async fn today(&self, #[subject] openid: String) -> Result<u32, PrivacyError> {
///         Ok(8_848)
///     }
/// }
///
/// let guidelines = Guidelines::builder("《示例小程序隐私保护指引》")
///     .version(Timestamp::utc(2023, 7, 13, 0, 0, 0), ["werun"])
///     .agree_button("agree-btn")
///     .build()?;
/// let gate = Gate::builder("wx-demo", guidelines).wait_policy(WaitPolicy::ReturnPending).build();
/// let runtime = tokio::runtime::Builder::new_current_thread().build()?;
///
/// runtime.block_on(gate.scope(async {
///     // The HTTP pattern: the first request gets the ticket back; the client shows the
///     // popup, the user taps the agree button, and the request is made again.
///     let pending = Steps.today("openid-1".to_owned()).await.unwrap_err();
///     assert!(pending.ticket().is_some());
///     gate.tap_agree_button("openid-1", "agree-btn").await?;
///     assert_eq!(Steps.today("openid-1".to_owned()).await?, 8_848);
///     Ok::<(), Box<dyn std::error::Error>>(())
/// }))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// **With `#[async_trait]`.** In an `#[async_trait]` impl, async-trait expands first (its
/// attribute is on the impl, outside the method's), so `#[privacy_scope]` below it, on a method,
/// sees the method as async-trait rewrote it: a `fn` returning
/// `Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'async_trait>>` whose body is
/// `Box::pin(async move { .. })`. It recognises that shape and puts the check inside the boxed
/// future, so the method behaves as an `async fn`: `#[subject]`, `degrade` (an `async fn` of
/// `Self`) and the errors are as above. Where `#[privacy_scope]` comes first (above async-trait,
/// or on a native `async fn` in a trait or trait impl, which needs no async-trait), it sees the
/// `async fn` as written and guards it like any other. Either way the check runs when the future
/// is first polled. A plain `fn` returning `impl Future` is not guarded as async: its return type
/// is not a `Result`, and it is refused at compile time; write it as an `async fn`.
///
/// # What it can guard
///
/// Free functions and methods with any receiver (`&self`, `&mut self`, `self`,
/// `self: Box<Self>`, …), in inherent impls, trait impls and trait methods with a default body;
/// generic functions (lifetimes, `where` clauses, `impl Trait` arguments, `impl Trait` inside
/// the `Result`); any visibility; `unsafe` and `extern` functions (an `extern "C"` fn returning a
/// `Result` gets rustc's `improper_ctypes_definitions` warning, attribute or not); sync or `async`. Doc comments
/// and other attributes stay. Not a `const fn` (its check runs at run time), and not a trait
/// method without a body (put the attribute on the impl's method).
///
/// The attribute can be stacked: each `#[privacy_scope]` checks and registers on its own. One
/// attribute listing all the scopes asks the user once for all of them; stacked ones
/// ask one after the other.
///
/// Every guarded function is recorded at link time: `privacy_runtime::apis()` lists its API name,
/// scopes, module, file and line, `privacy_runtime::undeclared_scopes(&guidelines, &apis())`
/// reports at startup every scope the code uses that the newest guidelines version does not
/// declare, and `Manifest::build` writes the privacy manifest from them.
///
/// # Compile-time checks
///
/// Every problem is reported at once, each at the tokens that cause it, and the function is still
/// emitted as written, so its callers report no errors of their own:
///
/// - a scope that is not a string literal (`location` instead of `"location"`), an unknown key
///   (`apy = ..`: "did you mean `api`?"), a key without a value, a scope or key given twice, an
///   empty list;
/// - an unknown scope: an error at its string, with the nearest known id (`"locaton"`: did you
///   mean `"location"`?) or the list of the known ones;
/// - with a guidelines file (below): a scope that no version of the file declares is an error
///   saying that calls would fail with errno 112, and which line to add to which table of the
///   file; a scope that the newest version no longer declares is an error naming the version
///   that dropped it. A custom scope is valid only if the file declares it under
///   `[custom_scopes]` and some version lists it. A malformed or invalid file (bad TOML, an agree
///   button listed twice, an effect delay or a publish time out of range, too many custom
///   scopes) is an error that gives the file, line and column; a configured file that cannot be
///   read is an error naming it;
/// - the function's shape: not a function (or a trait method without a body), a `const fn`, a
///   missing or non-`Result` return type, two `#[subject]` parameters or one bound to a pattern,
///   a parameter bound to a pattern with `degrade`;
/// - and, from the type checker at your tokens: an `E` without `From<PrivacyError>` (at the
///   return type), a `#[subject]` type that is not `AsSubject` (at the parameter), a `degrade`
///   function that does not exist or takes other arguments (at its path).
///
/// ```compile_fail
/// use privacy_runtime::{PrivacyError, privacy_scope};
///
/// #[privacy_scope("locaton")] // error: unknown privacy scope "locaton"; did you mean "location"?
/// fn locate(#[subject] openid: &str) -> Result<(f64, f64), PrivacyError> {
///     Ok((39.98, 116.31))
/// }
/// ```
///
/// ```compile_fail
/// use privacy_runtime::{PrivacyError, privacy_scope};
///
/// // A built-in scope, but this crate's privacy.toml declares no "camera": calls would fail
/// // with errno 112, so the build does instead.
/// #[privacy_scope("camera")]
/// fn take_photo(#[subject] openid: &str) -> Result<Vec<u8>, PrivacyError> {
///     Ok(Vec::new())
/// }
/// ```
///
/// **Which guidelines file.** The one named by the `PRIVACY_TOML` environment variable (a path
/// relative to the crate root) when set, else by the `guidelines` key of
/// `[package.metadata.privacy-runtime]` in the crate's `Cargo.toml`, else `privacy.toml` at the
/// crate root. Without any, only the built-in catalog is checked, and custom scopes are refused.
/// Editing the file, or changing `PRIVACY_TOML`, rebuilds the crates that read it. Its format is
/// described in the `privacy-runtime` documentation.
#[proc_macro_attribute]
pub fn privacy_scope(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::privacy_scope(args.into(), item.into()).into()
}

/// The crate's guidelines file, compiled into the binary: the same `privacy.toml` that
/// [`#[privacy_scope]`](macro@privacy_scope) checked while compiling this crate, so the scopes
/// this crate's code was checked against and the guidelines it runs with cannot disagree (each
/// crate is checked against its own file).
///
/// Use it through `privacy-runtime`, which re-exports it as `privacy_runtime::guidelines!`.
/// `guidelines!()` expands to an expression of type `privacy_runtime::Guidelines`, built from the
/// file that the compiler read and checked: there is nothing left to fail at run time. The file
/// is found as for `#[privacy_scope]`: `PRIVACY_TOML` (relative to the crate root), else the
/// `guidelines` key of `[package.metadata.privacy-runtime]` in `Cargo.toml`, else `privacy.toml`
/// at the crate root; editing it rebuilds the crate.
///
/// Compile errors, at the macro call:
///
/// - no file: the error says where to create `privacy.toml` (or build the guidelines in code
///   with `Guidelines::builder`);
/// - a malformed or invalid file: the error gives the file, line and column
///   (`privacy.toml:7:9: string values must be quoted`);
/// - a configured file that cannot be read: the error names it.
///
/// `guidelines!(crate = path)` names where `privacy-runtime` is, as `crate = path` does for
/// `#[privacy_scope]`.
///
/// ```
/// use privacy_runtime::{Gate, Guidelines, PrivacyError, guidelines, privacy_scope, with_gate};
///
/// /// A custom scope: this crate's privacy.toml declares it under [custom_scopes] and lists it
/// /// in its newest version.
/// #[privacy_scope("health_record", api = "getBloodPressure")]
/// fn blood_pressure(#[subject] openid: &str) -> Result<(u16, u16), PrivacyError> {
///     Ok((118, 76))
/// }
///
/// let guidelines: Guidelines = guidelines!();
/// assert_eq!(guidelines.contract_name(), "《示例小程序隐私保护指引》");
/// assert_eq!(guidelines.versions().len(), 2);
///
/// let gate = Gate::builder("wx-demo", guidelines).build();
/// with_gate(&gate, || {
///     gate.tap_agree_button_blocking("openid-1", "agree-btn")?;
///     assert_eq!(blood_pressure("openid-1")?, (118, 76));
///     Ok::<(), Box<dyn std::error::Error>>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[proc_macro]
pub fn guidelines(input: TokenStream) -> TokenStream {
    expand::guidelines(input.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}
