-- The calendar platform whose own fields the last fetched document was read with (libcal,
-- trumba, the-events-calendar, localist, hcalendar), so a provider sees its feed understood.
ALTER TABLE fetch_state ADD COLUMN platform TEXT;
