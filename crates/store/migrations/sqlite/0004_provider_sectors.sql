-- Who a provider's offerings are for when their text does not say: the sectors it declares
-- (a JSON array of "archives", "libraries", "museums") and its default audience. Parsing
-- receives them as hints; an offering whose text names sectors keeps the ones it names.
ALTER TABLE providers ADD COLUMN sectors TEXT NOT NULL DEFAULT '[]';
ALTER TABLE providers ADD COLUMN audience TEXT;
