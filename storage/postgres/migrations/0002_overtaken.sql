-- A dead letter with an ordering key is overtaken once a later delivery
-- of its chain (the same inbox and key) is leased: requeueing it then
-- would deliver it after that one, a Create after its Delete, so Requeue
-- refuses. The lease that overtakes it marks it, in its statement,
-- through this index of the few dead letters not yet overtaken.
ALTER TABLE fedi_deliveries ADD COLUMN overtaken boolean NOT NULL DEFAULT false;
CREATE INDEX fedi_deliveries_dead_chain ON fedi_deliveries (inbox, ordering_key, id)
	WHERE gave_up IS NOT NULL AND ordering_key <> '' AND NOT overtaken;
