//! One decision, several engines: "may user U call `getLocation`, which needs scope `location`,
//! given U agreed to the guidelines version that declares it?", asked of each engine for the same
//! 10,000 consented users, visited in the same fixed pseudo-random order, in one criterion run.
//!
//! ```text
//! cd benches/peers && cargo bench --bench peers
//! ```
//!
//! Every case does one decision per iteration for the next user of the rotation, so the working
//! set is 10,000 users, not one warm entry. The per-call input (key, user id or request) and the
//! result go through `black_box`; the API name, scope, object and action are constants, as they
//! are at a real call site. Before any timing each engine must allow a few users and deny an
//! unknown one, so a misconfigured engine cannot post a fast wrong figure.
//!
//! Fairness notes:
//! - `cedar_is_authorized` times `Authorizer::is_authorized` only: the 10,000 `Request`s (entity
//!   UIDs included) are built before timing, although a server would build one per call.
//! - `casbin_cached_enforce` runs one untimed pass over all users first, with a cache large enough
//!   to hold them all (casbin's default holds 200), so every timed call is a cache hit.
//! - The `cached` feature, needed for `CachedEnforcer`, also gives casbin's role manager a
//!   50-entry `has_link` cache, which the plain `Enforcer` uses too; with 10,000 users in rotation
//!   it misses on every call.

#![allow(clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::hint::black_box;
use std::str::FromStr;
use std::time::Duration;

use casbin::{
    CachedApi, CachedEnforcer, CoreApi, DefaultCache, DefaultModel, EnforceArgs, Enforcer, MemoryAdapter, MgmtApi,
};
use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicySet, Request,
};
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main, measurement::WallTime};
use privacy_runtime::{Gate, Guidelines, PrivacyError, Scope, ScopeSet, Timestamp, privacy_scope};

/// How many users every engine knows, all of them consented.
const USERS: usize = 10_000;
/// The scopes `getLocation` needs.
const LOCATION: ScopeSet = ScopeSet::EMPTY.with(Scope::LOCATION);
/// A user no engine knows: every engine must deny it.
const UNKNOWN: &str = "o6_bmjrPTlm6_unknown_sgVt7hMZOPf";
/// Users checked for "allowed" before timing.
const SPOT_CHECKS: [usize; 4] = [0, 1, USERS / 2, USERS - 1];

/// The casbin role a user holds once they agreed to version 1 of the guidelines.
const CONSENTED_V1: &str = "consented_v1";
const CASBIN_MODEL: &str = "\
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act
";
const CEDAR_POLICY: &str =
    r#"permit(principal in Group::"consented_v1", action == Action::"use", resource == Scope::"location");"#;

/// The openid-like id of user `i` (30 bytes).
fn user_id(i: usize) -> String {
    format!("o6_bmjrPTlm6_{i:05}_sgVt7hMZOPf")
}

/// A fixed permutation of `0..n`: a Fisher–Yates shuffle driven by a 64-bit LCG (Knuth's MMIX
/// constants), so the order is the same in every run and for every case.
fn permutation(n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..n).rev() {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        // The high bits of an LCG are the random ones.
        let j = ((state >> 33) % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

/// Walks a permutation of the users, wrapping at its end.
struct Rotation<'a> {
    order: &'a [usize],
    pos: usize,
}

impl<'a> Rotation<'a> {
    fn new(order: &'a [usize]) -> Self {
        Self { order, pos: 0 }
    }

    /// The index of the next user.
    #[inline]
    fn next_user(&mut self) -> usize {
        let i = self.order[self.pos];
        self.pos += 1;
        if self.pos == self.order.len() {
            self.pos = 0;
        }
        i
    }
}

/// The guarded function of the `annotated` case: the attribute asks the global gate.
#[inline(never)]
#[privacy_scope("location", api = "getLocation")]
fn annotated(#[subject] user: &str, seed: u64) -> Result<u64, PrivacyError> {
    Ok(seed.wrapping_mul(31))
}

/// A gate where every user tapped the agree button, each user's consent already read once.
fn consented_gate(users: &[String]) -> Gate {
    let guidelines = Guidelines::builder("《基准测试隐私保护指引》")
        .version(Timestamp::utc(2023, 7, 11, 0, 0, 0), ["location"])
        .agree_button("agree-btn")
        .build()
        .expect("valid guidelines");
    let gate = Gate::builder("bench", guidelines).build();
    for u in users {
        gate.tap_agree_button_blocking(u.as_str(), "agree-btn").expect("consent stored");
    }
    for u in users {
        gate.check_blocking("getLocation", LOCATION, u.as_str()).expect("consented user allowed");
    }
    gate
}

/// Adds the one policy and a `consented_v1` grouping per user.
async fn load_casbin<E: MgmtApi>(enforcer: &mut E, users: &[String]) {
    let policy = [CONSENTED_V1, "location", "use"].map(String::from).to_vec();
    enforcer.add_policy(policy).await.expect("policy added");
    let groupings = users.iter().map(|u| vec![u.clone(), CONSENTED_V1.to_owned()]).collect();
    enforcer.add_grouping_policies(groupings).await.expect("groupings added");
}

/// The casbin request for a user: subject, object, action.
fn casbin_request(user: &str) -> (&str, &'static str, &'static str) {
    (user, "location", "use")
}

/// A plain and a cached casbin enforcer holding the same model and policies, built on a
/// current-thread tokio runtime (the setup is async; `enforce` is not).
fn casbin_enforcers(users: &[String]) -> (Enforcer, CachedEnforcer) {
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("tokio runtime");
    rt.block_on(async {
        let model = DefaultModel::from_str(CASBIN_MODEL).await.expect("valid casbin model");
        let mut plain = Enforcer::new(model, MemoryAdapter::default()).await.expect("enforcer");
        load_casbin(&mut plain, users).await;

        let model = DefaultModel::from_str(CASBIN_MODEL).await.expect("valid casbin model");
        let mut cached = CachedEnforcer::new(model, MemoryAdapter::default()).await.expect("cached enforcer");
        // Room for every user's request (the default capacity is 200).
        cached.set_cache(Box::new(DefaultCache::new(2 * USERS)));
        load_casbin(&mut cached, users).await;
        (plain, cached)
    })
}

/// The cedar policy set, the entity store (one `User` per user, all in `Group::"consented_v1"`)
/// and one request per user, plus one for an unknown user.
fn cedar_setup(users: &[String]) -> (PolicySet, Entities, Vec<Request>, Request) {
    let policies = PolicySet::from_str(CEDAR_POLICY).expect("valid cedar policy");
    let uid = |ty: &str, id: &str| {
        EntityUid::from_type_name_and_id(EntityTypeName::from_str(ty).expect("valid type name"), EntityId::new(id))
    };
    let group = uid("Group", CONSENTED_V1);
    let entities = Entities::from_entities(
        users
            .iter()
            .map(|u| Entity::new_no_attrs(uid("User", u), HashSet::from([group.clone()])))
            .chain([Entity::new_no_attrs(group.clone(), HashSet::new())]),
        None,
    )
    .expect("valid entities");
    let request = |user: &str| {
        Request::new(uid("User", user), uid("Action", "use"), uid("Scope", "location"), Context::empty(), None)
            .expect("valid request")
    };
    let requests = users.iter().map(|u| request(u)).collect();
    (policies, entities, requests, request(UNKNOWN))
}

fn hash_maps(g: &mut BenchmarkGroup<'_, WallTime>, users: &[String], order: &[usize]) {
    // The consented version per user; allowed iff it is at least 1.
    let by_index: HashMap<u64, u32> = (0..users.len() as u64).map(|i| (i, 1)).collect();
    let by_id: HashMap<String, u32> = users.iter().map(|u| (u.clone(), 1)).collect();
    let allowed_index = |i: u64| by_index.get(&i).is_some_and(|&v| v >= 1);
    let allowed_id = |u: &str| by_id.get(u).is_some_and(|&v| v >= 1);
    for i in SPOT_CHECKS {
        assert!(allowed_index(i as u64), "u64 map allows user {i}");
        assert!(allowed_id(&users[i]), "string map allows user {i}");
    }
    assert!(!allowed_index(users.len() as u64), "u64 map denies an unknown user");
    assert!(!allowed_id(UNKNOWN), "string map denies an unknown user");

    let mut next = Rotation::new(order);
    g.bench_function("hashmap_u64_siphash", |b| {
        b.iter(|| black_box(allowed_index(black_box(next.next_user() as u64))));
    });
    let mut next = Rotation::new(order);
    g.bench_function("hashmap_str_siphash", |b| {
        b.iter(|| black_box(allowed_id(black_box(users[next.next_user()].as_str()))));
    });
}

fn privacy_gate(g: &mut BenchmarkGroup<'_, WallTime>, users: &[String], order: &[usize]) {
    let gate = consented_gate(users);
    for i in SPOT_CHECKS {
        assert!(gate.check_blocking("getLocation", LOCATION, users[i].as_str()).is_ok(), "gate allows user {i}");
    }
    assert!(gate.check_blocking("getLocation", LOCATION, UNKNOWN).is_err(), "gate denies an unknown user");

    let mut next = Rotation::new(order);
    g.bench_function("gate_check", |b| {
        b.iter(|| black_box(gate.check_blocking("getLocation", LOCATION, black_box(users[next.next_user()].as_str()))));
    });

    // As in production: one global gate, which the attribute finds on its own.
    let _ = gate.clone().install_global();
    for i in SPOT_CHECKS {
        assert!(annotated(&users[i], 7).is_ok(), "annotated call allowed for user {i}");
    }
    assert!(annotated(UNKNOWN, 7).is_err(), "annotated call denied for an unknown user");

    let mut next = Rotation::new(order);
    g.bench_function("annotated", |b| {
        b.iter(|| {
            let i = next.next_user();
            black_box(annotated(black_box(users[i].as_str()), black_box(i as u64)))
        });
    });
}

fn casbin(g: &mut BenchmarkGroup<'_, WallTime>, users: &[String], order: &[usize]) {
    let (plain, mut cached) = casbin_enforcers(users);
    let allowed_plain = |u: &str| plain.enforce(casbin_request(u)).expect("casbin enforce");
    let allowed_cached = |u: &str| cached.enforce(casbin_request(u)).expect("casbin cached enforce");
    for i in SPOT_CHECKS {
        assert!(allowed_plain(&users[i]), "casbin allows user {i}");
        assert!(allowed_cached(&users[i]), "cached casbin allows user {i}");
    }
    assert!(!allowed_plain(UNKNOWN), "casbin denies an unknown user");
    assert!(!allowed_cached(UNKNOWN), "cached casbin denies an unknown user");

    let mut next = Rotation::new(order);
    g.bench_function("casbin_enforce", |b| {
        b.iter(|| black_box(allowed_plain(black_box(users[next.next_user()].as_str()))));
    });

    // Warm-up: the cache is keyed by request, so one untimed pass over every user fills it and
    // each timed call is a hit; check that it holds them all.
    for u in users {
        assert!(allowed_cached(u), "cached casbin allows {u}");
    }
    let cache = cached.get_mut_cache();
    let held = users.iter().filter(|u| cache.has(&casbin_request(u).cache_key())).count();
    assert_eq!(held, users.len(), "the cache holds every user's request");

    let mut next = Rotation::new(order);
    g.bench_function("casbin_cached_enforce", |b| {
        b.iter(|| {
            let user = black_box(users[next.next_user()].as_str());
            black_box(cached.enforce(casbin_request(user)).expect("casbin cached enforce"))
        });
    });
}

fn cedar(g: &mut BenchmarkGroup<'_, WallTime>, users: &[String], order: &[usize]) {
    let (policies, entities, requests, unknown) = cedar_setup(users);
    let authorizer = Authorizer::new();
    let decide = |r: &Request| authorizer.is_authorized(r, &policies, &entities).decision();
    for i in SPOT_CHECKS {
        assert_eq!(decide(&requests[i]), Decision::Allow, "cedar allows user {i}");
    }
    assert_eq!(decide(&unknown), Decision::Deny, "cedar denies an unknown user");

    // Only `is_authorized` is timed: the requests were built above (see the module notes).
    let mut next = Rotation::new(order);
    g.bench_function("cedar_is_authorized", |b| {
        b.iter(|| black_box(decide(black_box(&requests[next.next_user()])) == Decision::Allow));
    });
}

fn peers(c: &mut Criterion) {
    let users: Vec<String> = (0..USERS).map(user_id).collect();
    let order = permutation(USERS);
    let mut g = c.benchmark_group("peers_10k");
    hash_maps(&mut g, &users, &order);
    privacy_gate(&mut g, &users, &order);
    casbin(&mut g, &users, &order);
    cedar(&mut g, &users, &order);
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = peers
}
criterion_main!(benches);
