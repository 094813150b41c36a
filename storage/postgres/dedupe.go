package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/dbutil"
)

type dedupe struct{ scope }

func (s *dedupe) Record(ctx context.Context, activity, recipient string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, wrap(ctx, "record", err)
	}
	if err := storage.CheckIRI("activity", activity); err != nil {
		return false, wrap(ctx, "record", err)
	}
	if err := storage.CheckIRI("recipient", recipient); err != nil {
		return false, wrap(ctx, "record", err)
	}
	// Of concurrent inserts of one pair, the primary key lets exactly one
	// through; the others wait for it and then do nothing.
	tag, err := s.exec(ctx, "record", `INSERT INTO fedi_seen (activity, recipient, seen) VALUES ($1, $2, now()) ON CONFLICT DO NOTHING`,
		activity, recipient)
	if err != nil {
		return false, fmt.Errorf("postgres: record %q for %q: %w", activity, recipient, ctxErr(ctx, err))
	}
	return tag.RowsAffected() == 1, nil
}

func (s *dedupe) Forget(ctx context.Context, activity, recipient string) error {
	if dbutil.Unstorable(activity) || dbutil.Unstorable(recipient) {
		return fmt.Errorf("postgres: forget %q for %q: %w", activity, recipient, storage.ErrNotFound)
	}
	tag, err := s.exec(ctx, "forget", `DELETE FROM fedi_seen WHERE activity = $1 AND recipient = $2`, activity, recipient)
	if err != nil {
		return fmt.Errorf("postgres: forget %q for %q: %w", activity, recipient, ctxErr(ctx, err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: forget %q for %q: %w", activity, recipient, storage.ErrNotFound)
	}
	return nil
}

func (s *dedupe) Prune(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.exec(ctx, "prune", `DELETE FROM fedi_seen WHERE seen < $1`, before)
	if err != nil {
		return 0, wrap(ctx, "prune", err)
	}
	return tag.RowsAffected(), nil
}
