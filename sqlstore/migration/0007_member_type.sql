-- A membership's member type as a column, so RoomMembers filters on it
-- without reading JSON. (PostgreSQL schemas made before the SQL store was
-- shared have had it from the start.)
ALTER TABLE chime_memberships ADD COLUMN member_type TEXT NOT NULL DEFAULT '';
UPDATE chime_memberships SET member_type = {{jsonText "data" "MemberType"}};
