package postgres_test

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/fedi-go/fedi/storage/postgres"
)

// Every process of a deployment opens the same database; they may start
// together. Run as many queue workers per process as the pool has
// connections for.
func ExampleOpen() {
	ctx := context.Background()
	db, err := postgres.Open(ctx, os.Getenv("DATABASE_URL"), postgres.Options{Schema: "fedi", MaxConns: 16})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	q := db.Store().Queue

	for ctx.Err() == nil {
		batch, err := q.Lease(ctx, 16, time.Minute)
		if err != nil {
			log.Print(err)
			time.Sleep(time.Second)
			continue
		}
		if len(batch) == 0 {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		var delivered []string
		for _, d := range batch {
			// Sign d.Body afresh and POST it to d.Inbox; on failure call
			// q.Retry or q.GiveUp instead.
			delivered = append(delivered, d.Receipt)
		}
		if err := q.Ack(ctx, delivered...); err != nil {
			log.Print(err) // a lease that expired: another worker has it
		}
	}
}
