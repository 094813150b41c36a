package postgres

import (
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/fedi-go/fedi/storage/internal/dbutil"
)

// fromTS turns a nullable timestamptz into a time, NULL into the zero
// time.
func fromTS(ts pgtype.Timestamptz) time.Time {
	if !ts.Valid {
		return time.Time{}
	}
	return dbutil.Micro(ts.Time)
}

// toTS turns a time into a nullable timestamptz, the zero time into NULL.
func toTS(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: t, Valid: true}
}
