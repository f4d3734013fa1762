// Methods with every receiver, in inherent and trait impls, and async fns in traits.
use privacy_runtime::{privacy_scope, PrivacyError};

struct Service {
    calls: u32,
}

impl Service {
    #[privacy_scope("location")]
    fn by_ref(&self, #[subject] user: &str) -> Result<u32, PrivacyError> {
        let _ = user;
        Ok(self.calls)
    }

    #[privacy_scope("location")]
    fn by_mut(&mut self, #[subject] user: &str) -> Result<u32, PrivacyError> {
        let _ = user;
        self.calls += 1;
        Ok(self.calls)
    }

    #[privacy_scope("location")]
    fn by_value(self, #[subject] user: &str) -> Result<u32, PrivacyError> {
        let _ = user;
        Ok(self.calls)
    }

    #[privacy_scope("location")]
    fn boxed(self: Box<Self>, #[subject] user: &str) -> Result<u32, PrivacyError> {
        let _ = user;
        Ok(self.calls)
    }

    #[privacy_scope("location")]
    async fn async_ref(&self, #[subject] user: &str) -> Result<u32, PrivacyError> {
        let _ = user;
        Ok(self.calls)
    }
}

trait Locate {
    fn locate(&self, user: &str) -> Result<(f64, f64), PrivacyError>;
    async fn locate_async(&self, user: &str) -> Result<(f64, f64), PrivacyError>;
    #[privacy_scope("werun")]
    fn steps(&self, #[subject] user: &str) -> Result<u32, PrivacyError> {
        let _ = user;
        Ok(0)
    }
}

impl Locate for Service {
    #[privacy_scope("location", api = "getLocation")]
    fn locate(&self, #[subject] user: &str) -> Result<(f64, f64), PrivacyError> {
        let _ = user;
        Ok((0.0, 0.0))
    }

    #[privacy_scope("location", api = "getLocation")]
    async fn locate_async(&self, #[subject] user: &str) -> Result<(f64, f64), PrivacyError> {
        let _ = user;
        Ok((0.0, 0.0))
    }
}

fn main() {
    let mut s = Service { calls: 0 };
    let _ = s.by_ref("u");
    let _ = s.by_mut("u");
    let _ = s.locate("u");
    let _ = s.steps("u");
    let _ = s.locate_async("u");
    let _ = s.async_ref("u");
    let _ = Box::new(Service { calls: 0 }).boxed("u");
    let _ = s.by_value("u");
}
