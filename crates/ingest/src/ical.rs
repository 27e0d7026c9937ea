//! iCalendar: events, time zones, recurrence.

use crate::{Ctx, Doc, Extracted, ParseError};

pub(crate) fn extract(doc: &Doc<'_>, _ctx: &mut Ctx<'_>) -> Result<Extracted, ParseError> {
    Err(ParseError::malformed(
        doc.kind,
        "icalendar reading is not built yet",
    ))
}
