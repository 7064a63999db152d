//! RESP: the request parser (multibulk and inline) and the reply writer (RESP2 and RESP3).
pub mod errors;
pub mod parser;
pub mod reply;

pub use parser::{Limits, ParseOutcome, RequestParser};
pub use reply::Reply;
