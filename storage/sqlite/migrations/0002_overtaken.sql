-- A dead letter with an ordering key is overtaken once a later delivery
-- of its chain (the same inbox and key) is leased: requeueing it then
-- would deliver it after that one, a Create after its Delete, so Requeue
-- refuses. The lease that overtakes it marks it, in its transaction,
-- through this index of the few dead letters not yet overtaken.
ALTER TABLE fedi_deliveries ADD COLUMN overtaken INTEGER NOT NULL DEFAULT 0;
CREATE INDEX fedi_deliveries_dead_chain ON fedi_deliveries (inbox, ordering_key, id)
	WHERE gave_up <> 0 AND ordering_key <> '' AND overtaken = 0;
