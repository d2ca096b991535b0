package promstore

import (
	"fmt"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
)

// LookbackDelta is how far back NewEngine's PromQL engine looks for an instant
// vector's latest sample (Prometheus' default, --query.lookback-delta).
const LookbackDelta = 5 * time.Minute

// reachMargin is added to the longest reach of a run's queries: the reach is computed
// exactly, the margin only spares the argument about boundary samples.
const reachMargin = time.Minute

// Retention is how long the store must keep samples for the queries of a run.
type Retention struct {
	// Horizon: a query evaluated at t reads no sample older than t - Horizon. It is
	// the longest reach of the queries (Reach) plus a margin; 0 when KeepAll is set.
	Horizon time.Duration
	// KeepAll, when not empty, says why the queries' reach has no bound, so that every
	// sample must be kept.
	KeepAll string
}

// QueryRetention is the retention the queries need when each is evaluated as an
// instant query by NewEngine's PromQL engine at a time no earlier than the store's
// latest sample (the simulator's metric source queries at the virtual now). Queries
// that do not parse are left out: PromQL rejects them before reading anything.
func QueryRetention(queries []string) Retention {
	longest := time.Duration(0)
	for _, q := range queries {
		expr, err := parser.ParseExpr(q)
		if err != nil {
			continue
		}
		reach, why := Reach(expr)
		if why != "" {
			return Retention{KeepAll: fmt.Sprintf("query %q %s", q, why)}
		}
		longest = max(longest, reach)
	}
	return Retention{Horizon: longest + reachMargin}
}

// Reach is how far before its evaluation time an instant query may read samples:
// for each selector, its offset, its range or for an instant vector PromQL's
// lookback (a range selector marked anchored or smoothed reads a lookback before its
// range too), and the ranges and offsets of the subqueries it is in; the longest of
// them. Negative offsets, which read later samples, count as none, and so does `@
// start()` or `@ end()`: in an instant query both are the evaluation time, which can
// only shorten the reach. A query whose reach has no bound — a selector or subquery
// pinned to an absolute time with @, or a range or offset given by a duration
// expression — returns why instead.
func Reach(expr parser.Expr) (reach time.Duration, unbounded string) {
	parser.Inspect(expr, func(node parser.Node, path []parser.Node) error {
		if unbounded != "" {
			return nil
		}
		switch n := node.(type) {
		case *parser.SubqueryExpr:
			switch {
			case n.Timestamp != nil:
				unbounded = "pins a subquery to an absolute time with @"
			case n.RangeExpr != nil || n.OriginalOffsetExpr != nil:
				unbounded = "gives a subquery's range or offset as a duration expression"
			}
		case *parser.MatrixSelector:
			if n.RangeExpr != nil {
				unbounded = "gives a range as a duration expression"
			}
		case *parser.VectorSelector:
			switch {
			case n.Timestamp != nil:
				unbounded = "pins a selector to an absolute time with @"
			case n.OriginalOffsetExpr != nil:
				unbounded = "gives an offset as a duration expression"
			default:
				reach = max(reach, selectorReach(n, path))
			}
		}
		return nil
	})
	if unbounded != "" {
		return 0, unbounded
	}
	return reach, ""
}

// selectorReach is how far before the evaluation time the selector n, reached by
// path, reads.
func selectorReach(n *parser.VectorSelector, path []parser.Node) time.Duration {
	d, ranged := max(0, n.OriginalOffset), false
	for _, p := range path {
		switch p := p.(type) {
		case *parser.SubqueryExpr:
			d += p.Range + max(0, p.OriginalOffset)
		case *parser.MatrixSelector:
			if p.VectorSelector == n {
				d += p.Range
				ranged = true
			}
		}
	}
	if !ranged || n.Anchored || n.Smoothed {
		d += LookbackDelta
	}
	return d
}
