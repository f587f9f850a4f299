//! What a connection and the app tell each other about the request being
//! served: the edge (`crate::edge`) puts an [`EdgeConn`] in every request's
//! connection data; the request middleware records the id it gave the
//! request, and the body reader learns when the body is due.

use std::{
    cell::{Cell, RefCell},
    rc::Rc,
};

use actix_web::HttpRequest;
use tokio::time::Instant;

/// What a connection tells the app, and the app the connection, about the
/// request being served (`HttpRequest::conn_data`).
#[derive(Debug, Clone, Default)]
pub struct EdgeConn(Rc<ConnState>);

#[derive(Debug, Default)]
struct ConnState {
    /// The id the request middleware gave the current request.
    request_id: RefCell<Option<String>>,
    /// The caller's acceptable `X-Request-Id` of the current request.
    caller_id: RefCell<Option<String>>,
    /// When the current request's body must have arrived.
    body_due: Cell<Option<Instant>>,
}

impl EdgeConn {
    /// Records the id the middleware gave the current request.
    pub fn set_request_id(&self, id: &str) {
        *self.0.request_id.borrow_mut() = Some(id.to_string());
    }

    pub(crate) fn request_id(&self) -> Option<String> {
        self.0.request_id.borrow().clone()
    }

    pub(crate) fn caller_id(&self) -> Option<String> {
        self.0.caller_id.borrow().clone()
    }

    pub(crate) fn new_request(&self, caller_id: Option<String>) {
        *self.0.request_id.borrow_mut() = None;
        *self.0.caller_id.borrow_mut() = caller_id;
    }

    pub(crate) fn set_body_due(&self, at: Option<Instant>) {
        self.0.body_due.set(at);
    }
}

/// When the body of `req` must have arrived; `None` when no body is
/// outstanding or the request did not come through the edge (tests).
pub fn body_due(req: &HttpRequest) -> Option<Instant> {
    req.conn_data::<EdgeConn>().and_then(|c| c.0.body_due.get())
}
