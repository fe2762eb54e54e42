package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
)

// scanner is a row or the current row of rows.
type scanner interface{ Scan(dest ...any) error }

// all runs a query and scans every row with scan.
func all[T any](ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// one runs a query and scans its row with scan; notFound when it has none.
func one[T any](ctx context.Context, q querier, scan func(scanner) (T, error), notFound error, query string, args ...any) (T, error) {
	v, err := scan(q.row(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return v, notFound
	}
	return v, err
}

// fromJSON scans a row of one JSON column into a new T.
func fromJSON[T any](row scanner) (*T, error) {
	var data string
	if err := row.Scan(&data); err != nil {
		return nil, err
	}
	v := new(T)
	return v, json.Unmarshal([]byte(data), v)
}

func scanString(row scanner) (s string, err error) { return s, row.Scan(&s) }

// column returns the one string column of a query's rows.
func column(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	return all(ctx, q, scanString, query, args...)
}

// page cuts items, fetched with one more than max, to max, and returns
// the token of the page that follows the last kept: "" when none does.
func page[T any](items []T, max int, token func(T) string) ([]T, string) {
	if len(items) <= max {
		return items, ""
	}
	items = items[:max]
	return items, token(items[max-1])
}

func marshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func split(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}
