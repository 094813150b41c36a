package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/internal/dbutil"
)

type dedupe struct{ scope }

const (
	recordSQL = `INSERT INTO fedi_seen (activity, recipient, seen) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`
	forgetSQL = `DELETE FROM fedi_seen WHERE activity = ? AND recipient = ?`
)

func (s *dedupe) Record(ctx context.Context, activity, recipient string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, wrap("record", err)
	}
	if err := storage.CheckIRI("activity", activity); err != nil {
		return false, wrap("record", err)
	}
	if err := storage.CheckIRI("recipient", recipient); err != nil {
		return false, wrap("record", err)
	}
	res, err := s.exec(ctx, recordSQL, activity, recipient, nowMicro())
	if err != nil {
		return false, fmt.Errorf("sqlite: record %q for %q: %w", activity, recipient, hint(err))
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (s *dedupe) Forget(ctx context.Context, activity, recipient string) error {
	if dbutil.Unstorable(activity) || dbutil.Unstorable(recipient) {
		return fmt.Errorf("sqlite: forget %q for %q: %w", activity, recipient, storage.ErrNotFound)
	}
	res, err := s.exec(ctx, forgetSQL, activity, recipient)
	if err != nil {
		return fmt.Errorf("sqlite: forget %q for %q: %w", activity, recipient, hint(err))
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	return fmt.Errorf("sqlite: forget %q for %q: %w", activity, recipient, storage.ErrNotFound)
}

func (s *dedupe) Prune(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM fedi_seen WHERE seen < ?`, before.UnixMicro())
	if err != nil {
		return 0, wrap("prune", err)
	}
	return res.RowsAffected()
}
