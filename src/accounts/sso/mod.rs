//! Single sign-on for the intranet's other apps (SPEC §15): where a redirect may go
//! ([`ReturnTo`]), the sign-in walk as one state machine (`walk`), and the forward-auth
//! decision as a pure function (`decision`). The SSO session itself lives beside the panel
//! session, in `auth::sso`.

pub mod decision;
mod return_to;
pub mod walk;

pub use decision::{Decision, Identity, Route, SsoState, Target, decide, route};
pub use return_to::ReturnTo;
pub use walk::{Destination, Standing, Step, next_step};
