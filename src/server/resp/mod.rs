//! RESP: the request parser (multibulk and inline) and the reply writer (RESP2 and RESP3).
pub mod errors;
pub mod parser;
pub mod reply;

pub use parser::{parse_request, ParseOutcome};
pub use reply::Reply;
