-- Memberships.CollectionsOf lists the collections a member is in, newest
-- first, so that a Delete of an actor can take it out of all of them.
CREATE INDEX fedi_members_member ON fedi_members (member, state, seq);
